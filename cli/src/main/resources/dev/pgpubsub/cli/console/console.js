// The console works without this file; it only adds "select all" to the dead-letter page.
document.addEventListener('DOMContentLoaded', function () {
  var all = document.getElementById('select-all');
  if (!all) {
    return;
  }
  all.addEventListener('change', function () {
    document.querySelectorAll('input.select').forEach(function (box) { box.checked = all.checked; });
  });
});
