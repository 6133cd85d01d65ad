// Event Router admin UI: live dashboard figures, "Test connection", small form helpers.
// Loaded on every page; each part only acts when its elements are present.
(function () {
  "use strict";

  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Forms that ask before doing something destructive.
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // "Select all" on the dead-letter list.
  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll('#letters input[name="id"]').forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  function number(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  // -- live figures: the dashboard's rows and a consumer's own page -----------------------------

  // A latency for people (ui.py `duration` says the same): 0.4 ms, 12 ms, 1.2 s, 2.5 min.
  function duration(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 10) return ms.toFixed(1) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }

  // Tracking-log lines and bus messages refused as malformed (web/status.py `rejected_lines`).
  function rejectedLines(sourceCounts) {
    let total = 0;
    Object.values(sourceCounts || {}).forEach(function (counts) {
      total += (counts.rejected || 0) + (counts.malformed || 0);
    });
    return total;
  }

  function startLive(live) {
    const updated = document.getElementById("updated");
    const table = document.getElementById("consumers");
    const rows = {};
    document.querySelectorAll("[data-consumer]").forEach(function (row) {
      if (!row.matches("article")) rows[row.getAttribute("data-consumer")] = row;
    });
    let previous = null;

    function field(row, name) {
      return row.querySelector('[data-field="' + name + '"]');
    }

    function setState(row, state) {
      const badge = field(row, "state");
      setText(badge, state);
      badge.className = "state state-" + String(state).replace(/ /g, "-");
    }

    function showError(row, c) {
      const cell = field(row, "last_error");
      if (!cell) return;
      let text = c.last_error || "";
      if (text && c.last_error_at) {
        text = new Date(c.last_error_at * 1000).toLocaleTimeString() + " " + text;
      }
      if (!text && cell.tagName === "DD") text = "none";
      const resolved = Boolean(c.last_error && c.last_error_resolved);
      cell.classList.toggle("resolved", resolved);
      const shown = (resolved ? "resolved " : "") + text;
      if (cell.textContent.replace(/\s+/g, " ").trim() === shown.trim()) return;
      cell.textContent = "";
      if (resolved) {
        const badge = document.createElement("span");
        badge.className = "badge resolved";
        badge.textContent = "resolved";
        cell.append(badge, " ");
      }
      cell.append(text);
    }

    function show(data, now) {
      setText(document.querySelector('[data-journal="head"]'), number(data.journal.head));
      setText(document.querySelector('[data-journal="events"]'), number(data.journal.events));
      setText(document.querySelector('[data-ingest="accepted"]'), number(data.ingest.accepted));
      setText(document.querySelector('[data-ingest="rejected"]'), number(data.ingest.rejected));
      setText(
        document.querySelector('[data-ingest="rejected_lines"]'),
        number(rejectedLines(data.source_counts))
      );
      const names = Object.keys(data.consumers);
      if (
        table &&
        (names.length !== Object.keys(rows).length || names.some((n) => !(n in rows)))
      ) {
        window.location.reload(); // consumers were added or removed: render the table anew
        return;
      }
      Object.keys(rows).forEach(function (name) {
        const c = data.consumers[name];
        const row = rows[name];
        if (!c) return; // (a consumer page whose consumer was just removed)
        setState(row, c.state);
        setText(field(row, "delivered"), number(c.delivered || 0));
        setText(field(row, "pending"), number(c.pending));
        setText(field(row, "in_flight"), number(c.in_flight || 0));
        setText(field(row, "skipped"), number(c.skipped || 0));
        setText(field(row, "untranslatable"), number(c.untranslatable || 0));
        setText(field(row, "retries"), number(c.retries || 0));
        setText(field(row, "dead_letters_open"), number(c.dead_letters_open));
        const latency = c.latency_ms;
        setText(
          field(row, "latency"),
          latency && latency.p50 !== null
            ? duration(latency.p50) + " · " + duration(latency.p90) + " · " + duration(latency.p99)
            : "–"
        );
        showError(row, c);
        if (c.stream) {
          // A stream consumer: its subscribers and the furthest one's lag (consumer page).
          setText(field(row, "subscribers"), number(c.stream.subscribers));
          setText(field(row, "subscriber_lag"), number(c.stream.max_lag));
        }
        const throughput = field(row, "throughput");
        if (throughput && previous && previous.delivered[name] !== undefined) {
          const seconds = (now - previous.at) / 1000;
          const rate = Math.max(0, (c.delivered || 0) - previous.delivered[name]) / seconds;
          setText(throughput, rate.toFixed(rate < 10 ? 1 : 0) + " /s");
        }
      });
      const delivered = {};
      names.forEach((name) => (delivered[name] = data.consumers[name].delivered || 0));
      previous = { at: now, delivered: delivered };
    }

    // The router cannot be reached: no row may keep claiming "running".
    function unknown() {
      document.body.classList.add("stale-figures");
      Object.keys(rows).forEach(function (name) {
        setState(rows[name], "unknown");
        setText(field(rows[name], "throughput"), "–");
      });
      previous = null;
    }

    async function tick() {
      try {
        const response = await fetch(live.getAttribute("data-status-url"), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 401) {
          window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        show(await response.json(), Date.now());
        live.classList.remove("stale");
        document.body.classList.remove("stale-figures");
        setText(updated, "updated " + new Date().toLocaleTimeString());
      } catch (error) {
        live.classList.add("stale");
        unknown();
        setText(updated, "cannot reach the router (" + error.message + ")");
      }
      window.setTimeout(tick, 2000);
    }
    tick();
  }

  const live = document.getElementById("live");
  if (live) startLive(live);

  // -- test connection ---------------------------------------------------------------------------

  const test = document.getElementById("test-connection");
  if (test) {
    const out = document.getElementById("test-result");
    test.addEventListener("click", async function () {
      test.disabled = true;
      out.className = "result";
      out.textContent = "Testing…";
      try {
        const response = await fetch(test.getAttribute("data-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        });
        const data = await response.json();
        out.textContent = "";
        if (!response.ok) {
          out.className = "result bad";
          out.textContent = data.error || "HTTP " + response.status;
          return;
        }
        out.className = "result " + (data.ok ? "good" : "bad");
        const head = document.createElement("strong");
        head.textContent = (data.ok ? "✓ " : "✗ ") + data.verdict;
        const facts = document.createElement("div");
        const status = data.status === null ? "no answer" : "HTTP " + data.status;
        const latency = data.latency_ms === null ? "" : " · " + data.latency_ms + " ms";
        facts.textContent = status + latency;
        const request = document.createElement("div");
        request.className = "sub";
        request.textContent = data.request;
        out.append(head, facts, request);
        if (data.body) {
          const body = document.createElement("pre");
          body.textContent = data.body;
          out.append(body);
        }
      } catch (error) {
        out.className = "result bad";
        out.textContent = "The router did not answer: " + error.message;
      } finally {
        test.disabled = false;
      }
    });
  }
})();
