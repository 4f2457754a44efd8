// The search page's live count, "show as ADQL", the tar size; upload progress.
// Plain JavaScript, no library: every feature also works without it (links and forms).
(function () {
  "use strict";
  const form = document.getElementById("search");
  if (form) {
    const out = document.getElementById("live-count");
    let timer = null, seq = 0;
    const update = () => {
      const qs = new URLSearchParams(new FormData(form)).toString();
      const mine = ++seq;
      fetch("/api/count?" + qs).then(r => r.json()).then(j => {
        if (mine !== seq) return;
        if (j.errors && j.errors.length) out.textContent = j.errors.join("; ");
        else if (j.count === null) out.textContent = "";
        else out.textContent = j.count + " matching row" + (j.count === 1 ? "" : "s") +
          (j.count > j.cap ? " (" + (j.count - j.cap) + " more than shown: narrow your query)" : "");
      }).catch(() => {});
    };
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); });
    form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(update, 50); });
    update();  // a permalink opens with its count
  }
  const adqlButton = document.getElementById("show-adql");
  if (adqlButton) {
    adqlButton.addEventListener("click", () => {
      const pre = document.getElementById("adql");
      fetch(adqlButton.dataset.adql).then(r => r.text()).then(t => { pre.textContent = t; pre.hidden = false; });
    });
  }
  const tar = document.getElementById("tar");
  if (tar) {
    fetch(tar.dataset.size).then(r => r.json()).then(j => {
      const mb = j.bytes / 1048576;
      document.getElementById("tar-size").textContent =
        "(" + j.files + " file" + (j.files === 1 ? "" : "s") + ", " +
        (mb >= 1 ? mb.toFixed(1) + " MB" : Math.ceil(j.bytes / 1024) + " kB") + ")";
    }).catch(() => {});
  }
  // upload progress: the same POST, through XMLHttpRequest to see the bytes go
  for (const up of document.querySelectorAll("form[enctype='multipart/form-data']")) {
    up.addEventListener("submit", (ev) => {
      if (!window.XMLHttpRequest) return;
      ev.preventDefault();
      const bar = document.getElementById("progress"), text = document.getElementById("progress-text");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", up.action);
      xhr.upload.onprogress = (e) => {
        if (bar && e.lengthComputable) { bar.hidden = false; bar.value = 100 * e.loaded / e.total; }
        if (text) text.textContent = e.lengthComputable && e.loaded < e.total ?
          Math.round(100 * e.loaded / e.total) + " % sent" : "checking the files…";
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) window.location = xhr.responseURL;
        else if (text) text.textContent = xhr.responseText;
      };
      xhr.onerror = () => { if (text) text.textContent = "upload failed"; };
      xhr.send(new FormData(up));
    });
  }
})();
