// Copy buttons for code blocks: shown only when scripts run (the blocks can be selected and copied
// by hand without them).
document.querySelectorAll("button.copy[data-copy]").forEach(function (btn) {
  var src = document.getElementById(btn.getAttribute("data-copy"));
  if (!src || !navigator.clipboard) { return; }
  var label = btn.textContent;
  btn.hidden = false;
  btn.addEventListener("click", function () {
    navigator.clipboard.writeText(src.textContent).then(function () {
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = label; }, 2000);
    });
  });
});
