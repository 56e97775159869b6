// Progressive enhancement only: every action works without this file.
// "/" jumps to the search box; live updates arrive over server-sent events.
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var box = document.getElementById("tim-nhanh");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  });

  // Triage: the agency list follows the field chosen (the rules' agencies for it), with a
  // checkbox to see every agency. Without this script the list is ordered the same way.
  function narrow(select, field, showAll) {
    var commune = select.getAttribute("data-commune");
    var options = select.querySelectorAll("option[data-fields]");
    for (var i = 0; i < options.length; i++) {
      var fields = (options[i].getAttribute("data-fields") || "").split(" ");
      var own = commune && options[i].value === commune;  // the case's own commune
      options[i].hidden = !showAll && !!field && !own && fields.indexOf(field) < 0;
      options[i].disabled = options[i].hidden;
    }
    var groups = select.querySelectorAll("optgroup");
    for (var j = 0; j < groups.length; j++) {
      groups[j].hidden = !groups[j].querySelector("option:not([hidden])");
    }
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.hidden) {
      select.value = "";
    }
  }
  var narrowed = document.querySelectorAll("select[data-narrow-by]");
  for (var n = 0; n < narrowed.length; n++) {
    (function (select) {
      var fieldSelect = document.getElementById(select.getAttribute("data-narrow-by"));
      if (!fieldSelect) {
        return;
      }
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = select.id + "-tat-ca";
      var label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = select.getAttribute("data-show-all") || "";
      var wrap = document.createElement("p");
      wrap.className = "show-all";
      wrap.appendChild(box);
      wrap.appendChild(document.createTextNode(" "));
      wrap.appendChild(label);
      select.parentNode.appendChild(wrap);
      function update() {
        narrow(select, fieldSelect.value, box.checked);
      }
      fieldSelect.addEventListener("change", update);
      box.addEventListener("change", update);
      update();
    })(narrowed[n]);
  }

  var body = document.body;
  var url = body && body.getAttribute("data-stream");
  if (!url || typeof window.EventSource !== "function") {
    return;
  }
  var panel = document.getElementById("truc-tiep");
  var list = document.getElementById("truc-tiep-ds");
  var page = body.getAttribute("data-page");
  var MAX_ITEMS = 20;

  function show(text, href) {
    if (!panel || !list) {
      return;
    }
    panel.hidden = false;
    var item = document.createElement("li");
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      item.appendChild(link);
    } else {
      item.textContent = text;
    }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_ITEMS) {
      list.removeChild(list.lastChild);
    }
  }

  // Dashboard: the counters follow the stream; each burst of events costs one small fetch.
  var overview = document.querySelector("[data-counts]");
  var refreshTimer = null;
  function refreshCounts() {
    if (!overview || typeof window.fetch !== "function") {
      return;
    }
    if (refreshTimer) {
      window.clearTimeout(refreshTimer);
    }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      window.fetch(overview.getAttribute("data-counts"), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (!data || !data.counts) {
          return;
        }
        var spans = overview.querySelectorAll("[data-count]");
        for (var k = 0; k < spans.length; k++) {
          var value = data.counts[spans[k].getAttribute("data-count")];
          if (value !== undefined && value !== null && String(value) !== spans[k].textContent) {
            spans[k].textContent = String(value);
            spans[k].classList.add("changed");
          }
        }
      }).catch(function () { /* the next event tries again */ });
    }, 300);
  }

  var source = new EventSource(url);
  source.addEventListener("open", refreshCounts);
  source.addEventListener("case", function (message) {
    var data = JSON.parse(message.data);
    var code = data.tracking_code;
    refreshCounts();
    show((data.tracking_code_display || code) + ": " + data.event_name + " — " + data.lead_agency_name, "/ho-so/" + code);
    if (page === "triage" && data.status !== "triage") {
      var card = document.querySelector('.card[data-code="' + code + '"]');
      if (card) {
        card.classList.add("left-queue");
        var forms = card.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
          forms[i].hidden = true;
        }
      }
    }
  });
  source.addEventListener("dead_letter", function (message) {
    var data = JSON.parse(message.data);
    refreshCounts();
    show(data.stage + ": " + data.reason, "/tin-loi/" + data.id);
  });
  source.addEventListener("reload", function () {
    source.close();
  });
})();
