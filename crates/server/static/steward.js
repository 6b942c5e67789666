// Steward: confirmations and keyboard shortcuts. No dependencies.
(function () {
  "use strict";

  // (a) <form data-confirm="Really delete?"> asks before submitting.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    var msg = form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }, true);

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.list tbody tr"));
  }

  function move(delta) {
    var all = rows();
    if (!all.length) return;
    var cur = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = cur < 0 ? (delta > 0 ? 0 : all.length - 1)
                       : Math.max(0, Math.min(all.length - 1, cur + delta));
    if (cur >= 0) all[cur].classList.remove("selected");
    all[next].classList.add("selected");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function follow(a) {
    if (a && a.href) window.location.assign(a.href);
  }

  // (b) keyboard shortcuts: / j k Enter c
  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(document.activeElement)) return;
    switch (ev.key) {
      case "/": {
        var search = document.querySelector('input[type="search"]');
        if (search) { ev.preventDefault(); search.focus(); search.select(); }
        break;
      }
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": {
        var sel = document.querySelector("table.list tbody tr.selected");
        if (sel && !(document.activeElement && document.activeElement.closest("a, button"))) {
          ev.preventDefault();
          follow(sel.querySelector("a[href]"));
        }
        break;
      }
      case "c": follow(document.querySelector('a[data-hotkey="c"]')); break;
    }
  });
})();

// Agreement form: show only the chosen record kind's status choices, and let targets name
// milestones as soon as they are typed (the server offers them after the next round trip).
(function () {
  "use strict";
  var form = document.querySelector("form.agreement-form");
  if (!form) return;
  var kind = form.querySelector('select[name="record_kind"]');
  function showKind() {
    form.querySelectorAll("[data-record-kind]").forEach(function (g) {
      g.hidden = !!kind && g.getAttribute("data-record-kind") !== kind.value;
    });
  }
  if (kind) kind.addEventListener("change", showKind);
  showKind();
  form.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.hasAttribute || !input.hasAttribute("data-milestone-name")) return;
    var name = input.value.trim();
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(name)) return;
    form.querySelectorAll("select[data-metric]").forEach(function (select) {
      var known = Array.prototype.some.call(select.options, function (o) { return o.value === name; });
      if (!known) select.add(new Option(name.replace(/_/g, " "), name));
    });
  });
})();
