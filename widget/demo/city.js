// The mock city's own script: a search box and a global of its own, which the widget must leave
// alone (the browser tests check both).
window.musterstadt = { ready: true, searches: 0 };
document.querySelector('.search').addEventListener('submit', function (e) {
  e.preventDefault();
  window.musterstadt.searches++;
  var q = document.getElementById('suche').value.trim();
  document.getElementById('search-result').textContent = q
    ? 'Für „' + q + '“ wurden 3 Leistungen gefunden.'
    : 'Bitte geben Sie einen Suchbegriff ein.';
});
