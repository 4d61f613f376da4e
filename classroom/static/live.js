"use strict";
// The live pages' connection and turn timer (not in replays, which load and connect to nothing).

// A WebSocket that says hello with its token, reconnects with backoff, and hands messages on.
function liveConnection(hello, onMessage, onStatus) {
  let socket = null, wait = 500, closedByUs = false;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  function open() {
    socket = new WebSocket(url);
    socket.onopen = () => { wait = 500; onStatus(true); socket.send(JSON.stringify(hello)); };
    socket.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (err) { return; }
      onMessage(message);
    };
    socket.onclose = () => {
      onStatus(false);
      if (!closedByUs) { setTimeout(open, wait); wait = Math.min(wait * 2, 8000); }
    };
  }
  open();
  return {
    send(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    close() { closedByUs = true; if (socket) socket.close(); },
  };
}

// Counts down from the server's "seconds left" (no clock skew: it counts from when it was told).
function turnTimer(node) {
  let deadline = null, paused = false, left = null;
  function draw() {
    if (paused) { node.textContent = left === null ? "paused" : "paused, " + clock(left) + " left"; return; }
    if (deadline === null) { node.textContent = ""; return; }
    node.textContent = clock(Math.max(0, (deadline - Date.now()) / 1000));
  }
  function clock(seconds) {
    const s = Math.ceil(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  setInterval(draw, 250);
  return {
    set(game) {
      paused = game.status === "paused";
      left = game.deadline_in;
      deadline = game.status === "running" && game.deadline_in !== null ? Date.now() + game.deadline_in * 1000 : null;
      draw();
    },
  };
}

function newNonce() {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
