// Helpers the console tests evaluate in the page: find things as a person does (by visible
// names), fill generated forms by their fields' JSON pointers, submit.
function byText(selector, text, scope) {
  const all = Array.from((scope || document).querySelectorAll(selector));
  const found = all.find((el) => el.textContent.trim() === text);
  if (!found) throw new Error(`no ${selector} named ${JSON.stringify(text)} among ${JSON.stringify(all.map((e) => e.textContent.trim()))}`);
  return found;
}
function fill(scope, fields) {
  for (const [name, value] of fields) {
    const controls = Array.from(scope.querySelectorAll(`[name="${CSS.escape(name)}"]`));
    if (!controls.length) throw new Error(`no field ${name}`);
    if (controls[0].type === 'checkbox') {
      const wanted = Array.isArray(value) ? value.map(String) : [String(value)];
      controls.forEach((c) => {
        c.checked = wanted.includes(c.value);
        c.dispatchEvent(new Event('change', { bubbles: true }));
      });
      continue;
    }
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const list = controls[0].closest('[data-list]');
    if (list) {
      const add = scope.querySelector(`[data-add="${list.id}"]`);
      while (list.querySelectorAll('input').length < values.length) add.click();
    }
    const now = Array.from(scope.querySelectorAll(`[name="${CSS.escape(name)}"]`));
    now.forEach((c, i) => {
      c.value = i < values.length ? values[i] : '';
      c.dispatchEvent(new Event('input', { bubbles: true }));
      c.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }
}
function act(taskTitle, actionTitle, fields) {
  // Several open tasks may share a title (the seats of a joint decision): the caller's has the action.
  const tasks = Array.from(document.querySelectorAll('article.task'))
    .filter((a) => a.querySelector('h3').textContent.trim() === taskTitle);
  const summary = tasks
    .flatMap((a) => Array.from(a.querySelectorAll('details.action summary')))
    .find((s) => s.textContent.trim() === actionTitle);
  if (!summary) throw new Error(`no action ${JSON.stringify(actionTitle)} of a task ${JSON.stringify(taskTitle)} (${tasks.length} such tasks)`);
  const details = summary.closest('details');
  details.open = true;
  const form = details.querySelector('form');
  fill(form, fields || []);
  form.requestSubmit();
}
function press(name, scope) {
  // A button's name may go on in words only screen readers hear ("Claim: HKSTP review").
  const all = Array.from((scope || document).querySelectorAll('button'));
  const found = all.find((b) => b.textContent.trim().startsWith(name));
  if (!found) throw new Error(`no button ${JSON.stringify(name)}`);
  found.click();
}
