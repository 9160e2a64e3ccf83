// Fabrik Mission Control's service worker: shows the notifications the server pushes
// (a run waiting at its gate, with Approve and Open) and acts on their buttons. Plain JS,
// no build step; served from / with no caching so a new version applies at once.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// A push payload is JSON: { title, body, tag, url, approve_url? }.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "Fabrik", body: event.data ? event.data.text() : "" };
  }
  const actions = [{ action: "open", title: "Open" }];
  if (data.approve_url) actions.unshift({ action: "approve", title: "Approve" });
  event.waitUntil(
    self.registration.showNotification(data.title || "Fabrik Mission Control", {
      body: data.body || "",
      tag: data.tag,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data,
      actions,
      requireInteraction: Boolean(data.approve_url),
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if (event.action === "approve" && data.approve_url) {
    event.waitUntil(fetch(data.approve_url, { method: "POST", credentials: "same-origin" }));
    return;
  }
  event.waitUntil(openPage(data.url || "/runs"));
});

async function openPage(url) {
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = tabs.find((t) => new URL(t.url).pathname === url);
  if (open) return open.focus();
  return self.clients.openWindow(url);
}
