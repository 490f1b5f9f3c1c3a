// MLflow's UI addresses pages by URL fragment ("#/experiments/1/runs/abc"), and the mlflow
// client prints such links; send them to the same page here. Loaded by the experiments page,
// which is where those links land ("/" plus a fragment).

/** The path for an MLflow fragment route, or null when the fragment is not one. */
export function pathForFragment(fragment) {
  const [route, query = ""] = fragment.replace(/^#/, "").split("?");
  const parts = route.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  const enc = encodeURIComponent;
  if (parts[0] === "experiments" && parts[1]) {
    if (parts[2] === "runs" && parts[3]) return `/runs/${enc(parts[3])}`;
    return `/experiments/${enc(parts[1])}`;
  }
  if (parts[0] === "models") {
    if (!parts[1]) return "/models";
    const model = `/models/${enc(parts[1])}`;
    return parts[2] === "versions" && parts[3] ? `${model}/versions/${enc(parts[3])}` : model;
  }
  if (parts[0] === "compare-runs") {
    // MLflow: #/compare-runs?runs=["id1","id2"]&experiments=["0"]
    let ids = [];
    try { ids = JSON.parse(new URLSearchParams(query).get("runs") || "[]"); } catch { ids = []; }
    if (Array.isArray(ids) && ids.length) return `/compare?${new URLSearchParams({ run_ids: ids.map(String).join(",") })}`;
  }
  return null;
}

const target = window.location.hash.startsWith("#/") ? pathForFragment(window.location.hash) : null;
if (target) window.location.replace(target);
