// Moving between views: the hash names the view, and a same-hash move still re-renders.

export function reload() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

export function navigate(hash) {
  if (window.location.hash === hash) reload();
  else window.location.hash = hash;
}
