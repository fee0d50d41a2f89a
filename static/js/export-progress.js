// The progress of a background export (campaigns/export_job.html): polls the job's JSON every
// second and a half, moves the bar, and reloads the page when the job starts, is done or
// failed, so that the server shows the download link or the reason. Without JavaScript the
// page refreshes itself (a <noscript> meta refresh). A file, not an inline script: the pages'
// CSP allows scripts from this site only.
(() => {
  const box = document.getElementById("export-job");
  if (!box) return;
  const bar = document.getElementById("export-progress");
  const url = box.dataset.progressUrl;

  const poll = async () => {
    let data;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch {
      setTimeout(poll, 5000); // a blip: try again a little later
      return;
    }
    if (data.state !== box.dataset.state || data.expired) {
      // Started, finished or failed: the server's page says it in the person's language.
      window.location.reload();
      return;
    }
    if (bar && data.percent !== null) bar.value = data.percent;
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1000);
})();
