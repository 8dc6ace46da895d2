// talisman 1.1.4 ships no type declarations; these cover the modules the EMPI uses.
declare module 'talisman/metrics/jaro-winkler' {
  const jaroWinkler: (a: string, b: string) => number;
  export = jaroWinkler;
}
declare module 'talisman/phonetics/double-metaphone' {
  const doubleMetaphone: (word: string) => [string, string];
  export = doubleMetaphone;
}
declare module 'talisman/phonetics/nysiis' {
  const nysiis: ((word: string) => string) & { refined: (word: string) => string };
  export = nysiis;
}
declare module 'talisman/phonetics/soundex' {
  const soundex: (word: string) => string;
  export = soundex;
}
declare module 'talisman/metrics/damerau-levenshtein' {
  const damerauLevenshtein: ((a: string, b: string) => number) & { limited: (max: number, a: string, b: string) => number };
  export = damerauLevenshtein;
}
