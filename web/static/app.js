// Gatehouse's small progressive enhancements. Every page works without this file: forms post
// back and the server renders the result. With it, the request form updates its assessment as
// the contact types, adds and removes workflows without a round trip, shows only the trigger
// field that applies, and copy buttons copy drafts and new keys.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A polite live region for short announcements ("Workflow removed", "Copied").
  var announcer = document.createElement("p");
  announcer.className = "sr-only";
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");
  document.addEventListener("DOMContentLoaded", function () {
    document.body.appendChild(announcer);
  });
  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    // After a failed post, take keyboard and screen-reader users to what went wrong.
    var alert = document.getElementById("form-alert") || document.getElementById("page-alert");
    if (alert) { alert.focus(); }

    enhanceCopyButtons(document);
    var form = document.getElementById("request-form");
    if (form) { enhanceRequestForm(form); }
  });

  function enhanceCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        var done = function () {
          button.textContent = "Copied";
          announce("Copied to the clipboard");
          window.setTimeout(function () { button.textContent = label; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done, function () {
            source.select();
          });
        } else {
          source.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* selected: copy by hand */ }
        }
      });
    });
  }

  function enhanceRequestForm(form) {
    var panel = document.getElementById("assessment");
    var list = document.getElementById("workflows");
    var template = document.getElementById("workflow-template");
    var hint = document.querySelector(".live-hint");
    if (hint) { hint.hidden = false; }

    // Live assessment: the server renders the panel from what the form holds now.
    var timer = null;
    var inFlight = null;
    function assessSoon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(assessNow, 400);
    }
    function assessNow() {
      if (!panel || !window.fetch) { return; }
      if (inFlight && inFlight.abort) { inFlight.abort(); }
      inFlight = window.AbortController ? new AbortController() : null;
      var body = new URLSearchParams(new FormData(form));
      body.delete("action");
      fetch("/assess", {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "text/html" },
        signal: inFlight ? inFlight.signal : undefined
      }).then(function (response) {
        if (!response.ok) { throw new Error("assessment " + response.status); }
        return response.text();
      }).then(function (html) {
        panel.innerHTML = html;
        panel.setAttribute("data-updated", String(Date.now()));
      }).catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        panel.setAttribute("data-error", String(error));
      });
    }
    form.addEventListener("input", assessSoon);
    form.addEventListener("change", assessSoon);

    // Only the trigger value that applies is shown.
    function syncTrigger(fieldset) {
      var select = fieldset.querySelector("select[name$='.trigger']");
      if (!select) { return; }
      var show = {
        every_minutes: ".trigger.everyMinutes",
        daily_at: ".trigger.dailyAt",
        on_demand: ".trigger.onDemandPerDay"
      };
      var wanted = show[select.value];
      fieldset.querySelectorAll(".trigger-values .field").forEach(function (field) {
        var name = field.getAttribute("data-field") || "";
        var keep = wanted && name.slice(-wanted.length) === wanted;
        var hasValue = (field.querySelector("input") || {}).value;
        // A value typed while no trigger was chosen stays visible, so nothing typed hides.
        field.hidden = !(keep || (select.value === "none" && hasValue));
      });
    }
    function enhanceWorkflow(fieldset) {
      syncTrigger(fieldset);
      var select = fieldset.querySelector("select[name$='.trigger']");
      if (select) {
        select.addEventListener("change", function () { syncTrigger(fieldset); });
      }
    }
    list.querySelectorAll("fieldset.workflow").forEach(enhanceWorkflow);

    function renumber() {
      list.querySelectorAll("fieldset.workflow").forEach(function (fieldset, i) {
        var legend = fieldset.querySelector("legend");
        var name = fieldset.querySelector("input[name$='.name']");
        var text = "Workflow " + (i + 1);
        if (name && name.value.trim()) { text += ": " + name.value.trim(); }
        if (legend) { legend.textContent = text; }
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name && /\.name$/.test(event.target.name)) { renumber(); }
    });

    // Workflows added and removed in place, without a round trip. The server reads rows by
    // their index in field names, in order, whatever gaps removal leaves.
    var next = 0;
    list.querySelectorAll("fieldset.workflow").forEach(function (fieldset) {
      var i = parseInt(fieldset.getAttribute("data-workflow"), 10);
      if (!isNaN(i) && i >= next) { next = i + 1; }
    });
    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-workflow]");
      var remove = event.target.closest("[data-remove-workflow]");
      if (add && template) {
        event.preventDefault();
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.split("NEWWORKFLOWINDEX").join(String(next));
        next += 1;
        var fieldset = holder.querySelector("fieldset.workflow");
        list.appendChild(fieldset);
        enhanceWorkflow(fieldset);
        renumber();
        var first = fieldset.querySelector("input, textarea, select");
        if (first) { first.focus(); }
        announce("Workflow added");
        assessSoon();
      } else if (remove) {
        event.preventDefault();
        var gone = remove.closest("fieldset.workflow");
        if (!gone) { return; }
        var previous = gone.previousElementSibling;
        gone.parentNode.removeChild(gone);
        renumber();
        var target = previous ? previous.querySelector("legend") : form.querySelector("[data-add-workflow]");
        if (target) {
          if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
          target.focus();
        }
        announce("Workflow removed");
        assessSoon();
      }
    });
  }
})();
