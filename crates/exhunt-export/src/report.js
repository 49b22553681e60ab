(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var q = document.getElementById("f-q");
    var level = document.getElementById("f-level");
    var count = document.getElementById("f-count");
    var apply = function () {
      var text = q.value.trim().toLowerCase();
      var min = parseInt(level.value, 10) || 0;
      var shown = 0;
      rows.forEach(function (r) {
        var ok = (parseInt(r.getAttribute("data-level"), 10) || 0) >= min &&
          (text === "" || r.textContent.toLowerCase().indexOf(text) !== -1);
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown + " of " + rows.length + " shown";
    };
    q.addEventListener("input", apply);
    level.addEventListener("change", apply);
    var key = function (row, col) {
      var cell = row.cells[col];
      if (!cell) { return ""; }
      var k = cell.getAttribute("data-k");
      return k === null ? cell.textContent.trim().toLowerCase() : k;
    };
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        heads.forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var numeric = th.getAttribute("data-sort") === "num";
        rows.sort(function (a, b) {
          var x = key(a, col), y = key(b, col), c;
          if (numeric) { c = (parseFloat(x) || 0) - (parseFloat(y) || 0); }
          else { c = x < y ? -1 : (x > y ? 1 : 0); }
          if (c === 0) { c = parseFloat(key(a, 0)) - parseFloat(key(b, 0)); }
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    var setAll = function (open) {
      rows.forEach(function (r) {
        var d = r.querySelector("details");
        if (d && !r.hidden) { d.open = open; }
      });
    };
    document.getElementById("f-expand").addEventListener("click", function () { setAll(true); });
    document.getElementById("f-collapse").addEventListener("click", function () { setAll(false); });
    apply();
  }
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    Array.prototype.forEach.call(document.querySelectorAll("#findings-table > tbody > tr > td > details"), function (d) {
      if (!d.open) { d.open = true; opened.push(d); }
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
  document.documentElement.setAttribute("data-js", "ready");
}());
