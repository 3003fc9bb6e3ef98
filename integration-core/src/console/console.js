// The console's one script: "select all" boxes and a confirmation before
// replaying everything. Every page works without it.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll("input[name=keys]")) box.checked = all.checked;
});
document.addEventListener("submit", (event) => {
  const message = event.submitter && event.submitter.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
