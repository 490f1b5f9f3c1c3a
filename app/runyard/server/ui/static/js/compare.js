// Compare page: an overlaid chart of the chosen metric, and a switch to show only differences.
import { mountChart } from "./chart.js";
import { mountImages } from "./images.js";

const chartCard = document.getElementById("chart-card");
if (chartCard.dataset.metricKeys) mountChart(chartCard);
else chartCard.hidden = true;
const only = document.getElementById("only-diff");
only.addEventListener("change", () => {
  document.getElementById("compare-table").classList.toggle("only-diff", only.checked);
});

mountImages(document.getElementById("images"), chartCard.dataset.runIds.split(",").filter(Boolean));
