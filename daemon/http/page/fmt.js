// Dates and numbers in the browser's own locale (Intl), never in words
// written here. Satchel stores calendar dates as YYYY-MM-DD and moments as
// milliseconds since 1970.

const locale = undefined;	// the browser's
const dayFmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
const longDayFmt = new Intl.DateTimeFormat(locale, { dateStyle: "long" });
const momentFmt = new Intl.DateTimeFormat(locale,
    { dateStyle: "medium", timeStyle: "short" });
const relFmt = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
const numFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
const signedFmt = new Intl.NumberFormat(locale,
    { maximumFractionDigits: 1, signDisplay: "exceptZero" });

// A YYYY-MM-DD string as a local Date at midnight, or null.
export function parseDay(s) {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
	return m ? new Date(+m[1], +m[2] - 1, +m[3]) : null;
}

// Today as YYYY-MM-DD in local time (what a teacher means by "today").
export function today() {
	return isoDay(new Date());
}

export function isoDay(d) {
	const p = (n) => String(n).padStart(2, "0");
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function addDays(s, n) {
	const d = parseDay(s) || new Date();
	d.setDate(d.getDate() + n);
	return isoDay(d);
}

export function day(s) {
	const d = parseDay(s);
	return d ? dayFmt.format(d) : (s || "");
}

export function longDay(s) {
	const d = parseDay(s);
	return d ? longDayFmt.format(d) : (s || "");
}

export function moment(ms) {
	return ms ? momentFmt.format(new Date(ms)) : "";
}

// "2 minutes ago", "yesterday": the largest unit that fits.
export function ago(ms, now = Date.now()) {
	const s = Math.round((ms - now) / 1000);
	const units = [["year", 31536000], ["month", 2592000], ["week", 604800],
	    ["day", 86400], ["hour", 3600], ["minute", 60]];
	for (const [u, n] of units)
		if (Math.abs(s) >= n)
			return relFmt.format(Math.trunc(s / n), u);
	return relFmt.format(Math.abs(s) < 10 ? 0 : s, "second");
}

export function num(x) {
	return x === null || x === undefined || x === "" ? "" :
	    numFmt.format(+x);
}

export function signed(x) {
	return x === null || x === undefined || x === "" ? "" :
	    signedFmt.format(+x);
}
