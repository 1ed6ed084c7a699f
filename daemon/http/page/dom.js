// A few helpers to build the page from data without innerHTML, so that a
// name or a note can never become markup (and the CSP needs no exception).

// h("p.note", {onclick: f, "aria-label": "x"}, "text", child, [more])
export function h(tag, attrs, ...kids) {
	const [name, ...classes] = tag.split(".");
	const el = document.createElement(name || "div");
	if (classes.length)
		el.className = classes.join(" ");
	if (attrs && (typeof attrs !== "object" || attrs instanceof Node ||
	    Array.isArray(attrs))) {
		kids.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith("on") && typeof v === "function")
			el.addEventListener(k.slice(2), v);
		else if (k === "class")
			el.className = [el.className, v].filter(Boolean).join(" ");
		else if (k === "dataset")
			Object.assign(el.dataset, v);
		else if (k === "value" && name === "textarea")
			el.textContent = v;	// its default value too
		else if (k === "checked")
			el.defaultChecked = el.checked = !!v;
		else
			el.setAttribute(k, v === true ? "" : v);
	}
	append(el, kids);
	return el;
}

function append(el, kids) {
	for (const k of kids) {
		if (k === null || k === undefined || k === false)
			continue;
		if (Array.isArray(k))
			append(el, k);
		else
			el.append(k instanceof Node ? k : String(k));
	}
}

// Replaces el's children.
export function fill(el, ...kids) {
	el.replaceChildren();
	append(el, kids);
	return el;
}

let uid = 0;
export function newId(prefix) {
	return `${prefix}-${++uid}`;
}

// A labelled form field. kind: "text", "textarea", "date", "number",
// "select" (options: [[value, label]...]), "checkbox".
export function field(label, name, kind = "text", opts = {}) {
	const id = newId(name);
	let input;
	if (kind === "textarea")
		input = h("textarea", { id, name, rows: opts.rows || 2,
		    required: opts.required, value: opts.value });
	else if (kind === "select")
		input = h("select", { id, name },
		    (opts.options || []).map(([v, l]) => h("option",
		    { value: v, selected: v === opts.value }, l)));
	else
		input = h("input", { id, name, type: kind,
		    required: opts.required, value: opts.value,
		    checked: opts.checked, min: opts.min, step: opts.step,
		    autocomplete: "off" });
	const lab = h("label", { for: id }, label);
	return kind === "checkbox" ?
	    h("div.field.check", input, lab) : h("div.field", lab, input);
}

// Reads a form's named fields into an object of trimmed strings (and
// booleans for checkboxes); empty strings are left out.
export function formData(form) {
	const out = {};
	for (const el of form.elements) {
		if (!el.name)
			continue;
		if (el.type === "checkbox")
			out[el.name] = el.checked;
		else if (el.value.trim() !== "")
			out[el.name] = el.value.trim();
	}
	return out;
}

// Says something to screen readers (and shows it in the status line).
export function announce(text) {
	const live = document.getElementById("announce");
	if (live) {
		live.textContent = "";
		requestAnimationFrame(() => { live.textContent = text; });
	}
}
