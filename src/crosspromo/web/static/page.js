// The dashboard's own script (the CSP allows no inline script).
//
// Copy buttons: <button data-copy="text">, or <button data-copy-from="id"> for the current
// value of a field the user may have edited.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy], button[data-copy-from]");
  if (!button) return;
  const source = button.getAttribute("data-copy-from");
  const text = source ? document.getElementById(source).value : button.getAttribute("data-copy");
  const label = button.textContent;
  const done = () => {
    button.textContent = "Copied";
    button.setAttribute("data-copied", text);
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => {});
  } else {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); done(); } finally { area.remove(); }
  }
});

// On a narrow screen the tabs scroll sideways: keep the current one in view.
document.addEventListener("DOMContentLoaded", () => {
  const tabs = document.querySelector("nav.tabs");
  const current = tabs && tabs.querySelector("a.on");
  if (current && tabs.scrollWidth > tabs.clientWidth) {
    const from = tabs.getBoundingClientRect().left;
    const at = current.getBoundingClientRect().left;
    tabs.scrollLeft += at - from - (tabs.clientWidth - current.offsetWidth) / 2;
  }
});
