// Compare page: an overlaid chart of the chosen metric, and a switch to show only differences.
import { mountChart } from "./chart.js";

mountChart(document.getElementById("chart-card"));
const only = document.getElementById("only-diff");
only.addEventListener("change", () => {
  document.getElementById("compare-table").classList.toggle("only-diff", only.checked);
});
