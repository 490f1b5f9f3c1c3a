// Experiments page: create, rename, delete and restore through MLflow's own endpoints.
import { MLFLOW_API, postJson } from "./dom.js";

const message = document.getElementById("experiments-message");

function show(text, isError = false) {
  message.textContent = text;
  message.classList.toggle("error", isError);
}

async function act(path, body, done) {
  try {
    await postJson(`${MLFLOW_API}/${path}`, body);
    show(done);
    window.location.reload();
  } catch (err) {
    show(err.message, true);
  }
}

document.getElementById("create-experiment").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("new-experiment-name");
  const name = input.value.trim();
  if (!name) return;
  act("experiments/create", { name }, `Created ${name}.`);
});

const table = document.getElementById("experiments-table");
if (table) {
  table.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    const id = row.dataset.experimentId;
    const action = button.dataset.action;
    if (action === "rename") {
      const name = window.prompt("New name", button.dataset.name);
      if (name && name.trim() && name !== button.dataset.name) {
        act("experiments/update", { experiment_id: id, new_name: name.trim() }, "Renamed.");
      }
    } else if (action === "delete") {
      if (window.confirm("Delete this experiment and its runs? It can be restored later.")) {
        act("experiments/delete", { experiment_id: id }, "Deleted.");
      }
    } else if (action === "restore") {
      act("experiments/restore", { experiment_id: id }, "Restored.");
    }
  });
}
