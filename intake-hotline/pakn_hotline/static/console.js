// Progressive enhancement only: every action works as a plain form post without this file.
// It saves the draft while the agent types, refreshes the side panels (same place, same
// words; the caller's history) from the server's own page, and adds keyboard shortcuts.
(function () {
  "use strict";
  var form = document.getElementById("bao-cao");
  if (!form) {
    return;
  }
  var status = document.getElementById("trang-thai-luu");
  var timer = null;
  var saving = false;

  function refreshPanels() {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["lien-quan", "hieu-la", "khan-cap"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var here = document.getElementById(id);
          if (fresh && here) { here.innerHTML = fresh.innerHTML; }
        });
      });
  }

  function save() {
    if (saving) { schedule(); return; }
    saving = true;
    var data = new FormData(form);
    data.set("action", "save");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (r.ok) {
        status.textContent = "Đã lưu nháp lúc " + new Date().toLocaleTimeString("vi-VN");
        return refreshPanels();
      }
      status.textContent = "Chưa lưu được nháp (máy chủ trả lời " + r.status + "); bấm «Lưu nháp».";
    }).catch(function () {
      status.textContent = "Mất kết nối: nháp chưa lưu; bấm «Lưu nháp» khi có mạng lại.";
    }).then(function () { saving = false; });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 800);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      document.getElementById("gui").click();
    } else if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      document.getElementById("luu").click();
    }
  });
  var errors = document.getElementById("loi");
  if (errors) { errors.focus(); }
})();
