// softland console: small enhancements on top of server-rendered pages (no inline script:
// the Content-Security-Policy allows only files served by softland).
(function () {
  'use strict';

  // Lists: "Add" copies the last item (emptied), "Remove" takes one away (one always stays).
  document.addEventListener('click', function (event) {
    var add = event.target.closest('[data-add]');
    if (add) {
      var list = document.getElementById(add.getAttribute('data-add'));
      var last = list && list.lastElementChild;
      if (last) {
        var copy = last.cloneNode(true);
        var input = copy.querySelector('input');
        input.value = '';
        var n = list.children.length + 1;
        input.setAttribute('aria-label', input.getAttribute('aria-label').replace(/\d+$/, String(n)));
        list.appendChild(copy);
        input.focus();
      }
      return;
    }
    var remove = event.target.closest('[data-remove]');
    if (remove) {
      var item = remove.closest('li');
      var items = item.parentElement;
      if (items.children.length > 1) {
        item.remove();
        items.querySelector('input').focus();
      } else {
        item.querySelector('input').value = '';
      }
      saveDraft(items.closest('form[data-draft]'));
    }
  });

  // Drafts: a new application's fields are kept in this browser until it is submitted, under
  // the signed-in person (another person in the same browser never sees them), and forgotten
  // at sign-out.
  var person = document.body.getAttribute('data-person') || '';
  function draftKey(form) { return 'softland:draft:' + person + ':' + form.getAttribute('data-draft'); }

  function saveDraft(form) {
    if (!form) return;
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== 'csrf' && name !== 'idempotency') fields.push([name, value]);
    });
    try { localStorage.setItem(draftKey(form), JSON.stringify(fields)); } catch (e) { /* storage full or off */ }
  }

  function restoreDraft(form) {
    // A form the server sent back with errors holds what was typed: keep it.
    if (form.closest('main').querySelector('.error.summary')) return;
    var saved;
    try { saved = JSON.parse(localStorage.getItem(draftKey(form)) || 'null'); } catch (e) { saved = null; }
    if (!Array.isArray(saved)) return;
    var byName = {};
    saved.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Object.keys(byName).forEach(function (name) {
      var values = byName[name];
      var controls = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      if (!controls.length) return;
      if (controls[0].type === 'checkbox') {
        controls.forEach(function (c) { c.checked = values.indexOf(c.value) >= 0; });
        return;
      }
      var list = controls[0].closest('[data-list]');
      if (list) {
        while (list.children.length < values.length) {
          var copy = list.lastElementChild.cloneNode(true);
          list.appendChild(copy);
        }
        controls = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      }
      controls.forEach(function (c, i) { if (i < values.length) c.value = values[i]; });
    });
  }

  document.querySelectorAll('form[data-draft]').forEach(function (form) {
    if (!person) return;
    restoreDraft(form);
    form.addEventListener('input', function () { saveDraft(form); });
    form.addEventListener('change', function () { saveDraft(form); });
  });

  // Submitted: the draft is no longer needed.
  document.querySelectorAll('[data-clear-draft]').forEach(function (el) {
    try { localStorage.removeItem('softland:draft:' + person + ':' + el.getAttribute('data-clear-draft')); } catch (e) { /* off */ }
  });

  // Signing out forgets every draft kept in this browser.
  document.querySelectorAll('form.signout').forEach(function (form) {
    form.addEventListener('submit', function () {
      try {
        for (var i = localStorage.length - 1; i >= 0; i--) {
          var k = localStorage.key(i);
          if (k && k.indexOf('softland:draft:') === 0) localStorage.removeItem(k);
        }
      } catch (e) { /* off */ }
    });
  });
})();
