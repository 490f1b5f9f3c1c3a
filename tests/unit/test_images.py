"""Names of images logged per step: written as MLflow writes them, read in every MLflow form."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidParameterValue
from runyard.images import image_paths, parse_image_names, validate_image_key

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_paths_follow_mlflow_s_layout() -> None:
    full, small = image_paths("val/samples", 7, 1700000000000)
    assert full.startswith("images/val~samples+step+7+timestamp+1700000000000+")
    assert full.endswith(".png") and small == full[: -len(".png")] + "+compressed.webp"


def test_parse_reads_current_and_older_names() -> None:
    names = [
        f"a~b+step+2+timestamp+5+{UUID}.png",
        f"a~b+step+2+timestamp+5+{UUID}+compressed.webp",
        f"old#key%step%1%timestamp%3%{UUID[:-1]}1.png",
        "notes.txt",
        f"a~b+step+x+timestamp+5+{UUID}.png",
    ]
    parsed = parse_image_names(names)
    assert list(parsed) == ["a/b", "old/key"]
    (image,) = parsed["a/b"]
    assert (image.step, image.timestamp) == (2, 5)
    assert image.compressed == f"images/a~b+step+2+timestamp+5+{UUID}+compressed.webp"
    assert parsed["old/key"][0].compressed is None


@pytest.mark.parametrize("key", ["", "a:b", "a+b", "x\n"])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidParameterValue):
        validate_image_key(key)


def test_client_logs_image_files_and_figures(tmp_path) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    from runyard import Client

    client = Client(tracking_uri=f"file:{tmp_path / 'mlruns'}")
    run = client.create_run("0")
    rid = run.info.run_id
    client.log_image(rid, np.zeros((4, 6), dtype=bool), artifact_file="masks/empty.png")
    client.log_image(rid, np.linspace(-1, 2, 12).reshape(3, 4), key="ramp", step=2)
    with pytest.raises(TypeError):
        client.log_image(rid, np.zeros((2, 2)), artifact_file="a.png", key="a")
    with pytest.raises(TypeError):
        client.log_image(rid, np.zeros((2, 2)))
    with pytest.raises(InvalidParameterValue):
        client.log_image(rid, np.zeros((2, 2)), key="bad+key")
    names = [f.path for f in client.list_artifacts(rid, "images")]
    assert [i.step for i in parse_image_names([n.split("/")[-1] for n in names])["ramp"]] == [2]
    assert client.get_run(rid).data.tags["mlflow.loggedImages"] == "True"

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots()
    axes.plot([0, 1], [1, 0])
    client.log_figure(rid, figure, "plots/line.png")
    pyplot.close(figure)
    listed = {f.path for f in client.list_artifacts(rid, "plots")} | {
        f.path for f in client.list_artifacts(rid, "masks")
    }
    assert listed == {"plots/line.png", "masks/empty.png"}
