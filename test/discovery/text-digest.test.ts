// The incremental loader keeps a digest of each file's text instead of the text (config-worker.ts):
// a change of any kind must change the digest, or the change would never be loaded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { textDigest } from "../../runtime/discovery/config-worker.ts";

const text = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: a }\nspec:\n  hosts: [a]\n  http: [{ route: [{ destination: { host: b }, weight: 90 }] }]\n";

test("the same text, the same digest; different lengths differ", () => {
  assert.is(textDigest(text), textDigest(text.slice(0, 10) + text.slice(10)));
  assert.is.not(textDigest(""), textDigest(" "));
  assert.is.not(textDigest(text), textDigest(text + "\n"));
});

test("every one-character edit, swap, insertion and deletion changes the digest", () => {
  const original = textDigest(text);
  const texts = new Set<string>();
  const digests = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const variants = [
      text.slice(0, i) + (text[i] === "x" ? "y" : "x") + text.slice(i + 1),
      text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1),
      text.slice(0, i) + "é" + text.slice(i + 1),
      text.slice(0, i) + " " + text.slice(i),
      text.slice(0, i) + text.slice(i + 1),
    ];
    if (i + 1 < text.length && text[i] !== text[i + 1]) variants.push(text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2));
    for (const v of variants) {
      if (v === text) continue;
      const d = textDigest(v);
      assert.is.not(d, original, `edit at ${i}: ${JSON.stringify(v.slice(Math.max(0, i - 5), i + 5))}`);
      texts.add(v);
      digests.add(d);
    }
  }
  // distinct edited texts give distinct digests too (no cheap collisions among near-identical texts)
  assert.ok(texts.size > 900);
  assert.is(digests.size, texts.size);
});

test.run();
