// The pipeline board: drag a deal card to another stage column (native HTML5 drag and drop).
// The drop POSTs the move through HTMX; the server answers with the whole board, so the cards
// and the column totals always show what is stored. A refused move leaves the card where it was
// (quota.js shows the server's reason).
(function () {
  "use strict";
  var dragged = null;

  function columnOf(event) {
    return event.target.closest ? event.target.closest(".board-column") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-column.drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
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
    var column = columnOf(event);
    if (!dragged || !column) return;
    event.preventDefault(); // this column accepts the drop
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearTargets();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event);
    if (!dragged || !column) return;
    event.preventDefault();
    clearTargets();
    var card = dragged;
    if (column.dataset.stage === card.dataset.stage) return;
    var board = document.getElementById("board");
    card.classList.add("moving");
    htmx.ajax("POST", card.dataset.moveUrl, {
      source: card, // inherits the CSRF header set on <body>
      target: "#board",
      swap: "outerHTML",
      values: { stage: column.dataset.stage, owner: board.dataset.owner || "" },
    }).finally(function () {
      card.classList.remove("moving");
    });
  });
})();
