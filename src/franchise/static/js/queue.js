// The queue: "/" puts the cursor in the search box (unless typing somewhere already).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) return;
  const search = document.getElementById("queue-search");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});
