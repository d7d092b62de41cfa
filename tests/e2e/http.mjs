// Plain HTTP for the end-to-end drivers: a cookie jar kept by hand (one host), requests that do
// not follow redirects, the hidden fields of a hosted page, and the JSON input on stdin.

export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  has(name) {
    return this.cookies.has(name);
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  update(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='));
      const expires = attributes.find((a) => a.toLowerCase().startsWith('expires='));
      const expired =
        (maxAge && Number(maxAge.split('=')[1]) <= 0) ||
        (expires && Date.parse(expires.slice(8)) <= Date.now()) ||
        value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export async function request(url, { jar, form } = {}) {
  const headers = { accept: 'text/html' };
  if (jar && jar.cookies.size) headers.cookie = jar.header();
  const init = { method: 'GET', headers, redirect: 'manual' };
  if (form) {
    init.method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, init);
  jar?.update(response);
  return response;
}

export function hiddenFields(html) {
  const fields = {};
  for (const tag of html.match(/<input[^>]*type="hidden"[^>]*>/g) || []) {
    const name = /name="([^"]*)"/.exec(tag);
    const value = /value="([^"]*)"/.exec(tag);
    if (name) fields[unescapeHtml(name[1])] = value ? unescapeHtml(value[1]) : '';
  }
  return fields;
}

function unescapeHtml(text) {
  return text
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
