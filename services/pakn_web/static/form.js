// Progressive enhancement: offer the phone's location for the report. Without this script,
// or when the citizen declines, the form works the same with the address typed.
(function () {
  "use strict";
  var slot = document.getElementById("locate");
  var lat = document.getElementById("location-lat");
  var lon = document.getElementById("location-lon");
  if (!slot || !lat || !lon || !navigator.geolocation) {
    return;
  }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = slot.getAttribute("data-label");
  var status = document.createElement("span");
  status.setAttribute("role", "status");
  status.className = "hint";
  slot.appendChild(button);
  slot.appendChild(document.createTextNode(" "));
  slot.appendChild(status);
  slot.hidden = false;
  if (lat.value && lon.value) {
    status.textContent = "Đã gắn vị trí " + lat.value + ", " + lon.value + ".";
  }
  button.addEventListener("click", function () {
    status.textContent = "Đang lấy vị trí…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        // Five decimals: about a metre, enough to find a pothole, no more.
        lat.value = position.coords.latitude.toFixed(5);
        lon.value = position.coords.longitude.toFixed(5);
        status.textContent = "Đã gắn vị trí " + lat.value + ", " + lon.value +
          ". Vẫn vui lòng ghi địa chỉ để cán bộ dễ tìm.";
      },
      function () {
        status.textContent = "Không lấy được vị trí; bạn chỉ cần ghi địa chỉ.";
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
