// citybot widget loader. City pages name this file; it is revalidated on every page view and
// names the content-hashed bundle, which browsers keep for a year. The bundle gets the script
// tag's data attributes (and nonce, for pages whose Content-Security-Policy uses one).
(function () {
  var me = document.currentScript;
  if (!me || !me.src) return;
  var s = document.createElement('script');
  s.src = new URL('__BUNDLE__', me.src).href;
  s.async = true;
  if (me.nonce) s.nonce = me.nonce;
  for (var k in me.dataset) s.dataset[k] = me.dataset[k];
  (document.head || document.documentElement).appendChild(s);
})();
