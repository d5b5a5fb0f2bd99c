// Bun's own YAML parser (Zig, ~15x the `yaml` package on Istio files). Used only through
// runtime/config/yaml-fast.ts, which hands it documents whose meaning both parsers agree on.
/** one YAML document's text → its plain value; throws on a syntax error (no position kept) */
export const bunParseYaml = (text: string): unknown => Bun.YAML.parse(text);
