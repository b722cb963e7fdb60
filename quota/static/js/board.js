// The pipeline board: drag a deal card to another stage column (native HTML5 drag and drop), or onto
// "Won" or "Lost" to close the deal. A stage or "Won" drop POSTs through HTMX; the server answers with
// the whole board, so the cards and the column totals always show what is stored. A "Lost" drop opens
// a dialog with the deal's loss form (the reason is required); saving it swaps the board and closes the
// dialog. A refused change leaves the card where it was (quota.js shows the server's reason).
(function () {
  "use strict";
  var dragged = null;

  function zoneOf(event) {
    return event.target.closest ? event.target.closest(".board-column, .board-outcome") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".drop-target").forEach(function (zone) {
      zone.classList.remove("drop-target");
    });
  }

  function dialog() {
    return document.getElementById("board-dialog");
  }

  // A card's move, win or lose URL: the board names each once, with a placeholder for the deal's id.
  function urlOf(card, action) {
    var board = document.getElementById("board");
    return board.dataset[action + "Url"].replace("{pk}", card.dataset.deal);
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var zone = zoneOf(event);
    if (!dragged || !zone) return;
    event.preventDefault(); // this zone accepts the drop
    event.dataTransfer.dropEffect = "move";
    if (!zone.classList.contains("drop-target")) {
      clearTargets();
      zone.classList.add("drop-target");
    }
  });

  function post(card, url, values) {
    card.classList.add("moving");
    htmx.ajax("POST", url, {
      source: card, // inherits the CSRF header set on <body>
      target: "#board",
      swap: "outerHTML",
      values: values,
    }).finally(function () {
      card.classList.remove("moving");
    });
  }

  function askLossReason(card, owner) {
    var box = dialog();
    if (!box) return;
    var url = urlOf(card, "lose") + "?" + new URLSearchParams({ board: "1", owner: owner }).toString();
    htmx.ajax("GET", url, { source: card, target: "#board-dialog-body", swap: "innerHTML" }).then(function () {
      if (!box.open) box.showModal();
    });
  }

  document.addEventListener("drop", function (event) {
    var zone = zoneOf(event);
    if (!dragged || !zone) return;
    event.preventDefault();
    clearTargets();
    var card = dragged;
    var owner = document.getElementById("board").dataset.owner || "";
    if (zone.dataset.outcome === "won") return post(card, urlOf(card, "win"), { owner: owner });
    if (zone.dataset.outcome === "lost") return askLossReason(card, owner);
    if (zone.dataset.stage === card.dataset.stage) return;
    post(card, urlOf(card, "move"), { stage: zone.dataset.stage, owner: owner });
  });

  // The loss form saved (the server says so), or cancelled: the dialog closes and forgets the form.
  function closeDialog() {
    var box = dialog();
    if (box && box.open) box.close();
  }
  document.addEventListener("board-dialog-close", closeDialog);
  document.addEventListener("click", function (event) {
    // Capturing: before quota.js removes the dismissed form (and with it the way up to the dialog).
    if (event.target.closest && event.target.closest("#board-dialog [data-dismiss]")) closeDialog();
  }, true);
  document.addEventListener("close", function (event) {
    if (event.target === dialog()) document.getElementById("board-dialog-body").innerHTML = "";
  }, true);
})();
