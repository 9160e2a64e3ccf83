// Fabrik Mission Control's service worker: shows the notifications the server pushes
// (a run waiting at its gate, with Approve and Open) and acts on their buttons. Plain JS,
// no build step; served from / with no caching so a new version applies at once.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// A push payload is JSON:
// { type: "gate"|"escalated"|"decided"|"test", run_id, title, body, url, tag,
//   approve?: { url, token } }   (approve only while the gate is open)
self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "Fabrik", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(show(data));
});

function show(data) {
  const actions = [{ action: "open", title: "Open" }];
  if (data.approve) actions.unshift({ action: "approve", title: "Approve" });
  return self.registration.showNotification(data.title || "Fabrik Mission Control", {
    body: data.body || "",
    tag: data.tag,
    renotify: Boolean(data.tag),
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data,
    actions,
    requireInteraction: Boolean(data.approve),
  });
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(act(event.action, event.notification.data || {}));
});

// What a notification's button does: "approve" decides the gate from here with the
// single-use token the push carried; anything else opens the run's feedback page.
async function act(action, data) {
  const feedback = data.run_id ? `/runs/${data.run_id}/feedback` : "/runs";
  if (action !== "approve" || !data.approve) return openPage(data.url || feedback);
  let message;
  try {
    const response = await fetch(data.approve.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: data.approve.token, run_id: data.run_id }),
    });
    if (response.ok) {
      return show({
        type: "decided",
        run_id: data.run_id,
        tag: data.tag,
        url: data.url,
        title: "Approved",
        body: "The run goes on. " + (data.body || "").split("\n").pop(),
      });
    }
    const problem = await response.json().catch(() => ({}));
    message = (problem.error && problem.error.message) || `The server answered ${response.status}.`;
  } catch (e) {
    message = `Could not reach Fabrik (${e.message}).`;
  }
  return show({
    type: "failed",
    run_id: data.run_id,
    tag: data.tag,
    url: data.url || feedback,
    title: "Not approved",
    body: `${message} Open the run to decide.`,
  });
}

async function openPage(url) {
  const path = new URL(url, self.location.origin).pathname;
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = tabs.find((t) => new URL(t.url).pathname === path);
  if (open) return open.focus();
  return self.clients.openWindow(path);
}
