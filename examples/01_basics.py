"""Basics: params, metrics with steps, tags and artifacts in one run.

    RUNYARD_TRACKING_URI=http://localhost:5000 python examples/01_basics.py

runyard reads ``RUNYARD_TRACKING_URI`` itself (default ``./mlruns``).
"""

import runyard


def main() -> str:
    runyard.set_experiment("walkthrough-basics")
    with runyard.start_run(run_name="basics") as run:
        runyard.log_param("learning_rate", 0.01)
        runyard.log_params({"epochs": 5, "optimizer": "adam"})
        for step in range(5):
            runyard.log_metric("loss", round(1.0 / (step + 1), 4), step=step)
            runyard.log_metric("accuracy", 0.5 + 0.1 * step, step=step)
        runyard.set_tag("team", "vision")
        runyard.log_text("Trained on the toy data set.\n", "notes/readme.txt")
        runyard.log_dict({"layers": [64, 32], "dropout": 0.1}, "config.json")
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
