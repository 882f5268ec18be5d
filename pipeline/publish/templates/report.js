// The search box of the report: as one types, only the statements whose
// every typed word starts a word of what they show (text, section,
// category, départements) or of their département, académie, région,
// theme or role (the data-contexte of the blocks around them) stay shown,
// accents and capitals aside. Nothing is fetched: the page's
// Content-Security-Policy admits this script by its hash only.
(function () {
  "use strict";
  var bar = document.getElementById("barre-recherche");
  var box = document.getElementById("recherche");
  var status = document.getElementById("recherche-statut");
  var all = function (selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); };
  var fold = function (text) {
    return " " + text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/œ/g, "oe").replace(/æ/g, "ae").replace(/[^a-z0-9]+/g, " ") + " ";
  };
  var items = all("[data-filtre]").map(function (element) {
    var words = element.textContent;
    for (var around = element.parentElement; around; around = around.parentElement) {
      words += " " + (around.getAttribute("data-contexte") || "");
    }
    return { element: element, kind: element.getAttribute("data-filtre"), words: fold(words) };
  });
  var groups = all("[data-groupe]");
  var details = all("details").map(function (element) { return { element: element, open: element.open }; });

  function show(query) {
    var words = fold(query).split(" ").filter(Boolean);
    var found = { enonce: 0, constat: 0 };
    document.body.classList.toggle("filtrage", words.length > 0);
    items.forEach(function (item) {
      var match = words.every(function (word) { return item.words.indexOf(" " + word) >= 0; });
      item.element.hidden = !match;
      if (match && item.kind in found) { found[item.kind] += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = words.length > 0 && !group.querySelector("[data-filtre]:not([hidden])");
    });
    details.forEach(function (entry) {
      entry.element.open = entry.open || (words.length > 0 && !!entry.element.querySelector("[data-filtre]:not([hidden])"));
    });
    var count = function (n, one, many) { return n.toLocaleString("fr-FR") + "\u00a0" + (n > 1 ? many : one); };
    status.textContent = words.length === 0 ? "" :
      count(found.constat, "énoncé récurrent", "énoncés récurrents") + " et " +
      count(found.enonce, "énoncé de département", "énoncés de départements") + " correspondent à « " + query.trim() + " ».";
  }

  box.addEventListener("input", function () { show(box.value); });
  bar.hidden = false;
  if (box.value) { show(box.value); }
})();
