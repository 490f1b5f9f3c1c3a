"""Background logging: ``synchronous=False`` returns at once; ``end_run`` waits for delivery."""

import math
import time

import runyard

STEPS = 5000


def main() -> str:
    runyard.set_experiment("walkthrough-async")
    with runyard.start_run(run_name="async") as run:
        runyard.log_param("steps", STEPS, synchronous=False)
        started = time.perf_counter()
        for step in range(STEPS):
            runyard.log_metric("loss", math.exp(-step / 1000), step=step, synchronous=False)
        queued = time.perf_counter() - started
    # Leaving the block ended the run, after everything queued had been sent.
    print(f"queued {STEPS} points in {queued:.3f}s ({STEPS / queued:,.0f}/s)")
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
