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

  var source = new EventSource(url);
  source.addEventListener("case", function (message) {
    var data = JSON.parse(message.data);
    var code = data.tracking_code;
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
    show(data.stage + ": " + data.reason, "/tin-loi/" + data.id);
  });
  source.addEventListener("reload", function () {
    source.close();
  });
})();
