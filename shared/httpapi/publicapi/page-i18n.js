  // The hosted pages' strings and language choice, shared: hostedPage puts
  // this where a page's script says I18N.
  // The page's strings in every language the service writes, filled in by
  // the server when it starts.
  var STRINGS = /*STRINGS*/{};
  var lang = "en";
  function pick(prefs) {
    for (var i = 0; i < prefs.length; i++) {
      var p = String(prefs[i] || "").toLowerCase();
      if (p === "no" || p.indexOf("no-") === 0 || p.indexOf("nn") === 0) p = "nb";
      if (STRINGS[p]) return p;
      var base = p.split("-")[0];
      if (STRINGS[base]) return base;
    }
    return "en";
  }
  function t(key, vars) {
    var s = (STRINGS[lang] && STRINGS[lang][key]) || (STRINGS.en && STRINGS.en[key]) || key;
    return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }
