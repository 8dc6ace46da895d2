/**
 * Given-name equivalence classes (formal name first). Kept as data, small on
 * purpose: a nickname agreement is strong evidence only while the classes are
 * tight. Extend per deployment (locale) rather than growing a global list.
 */
export const NICKNAME_GROUPS: readonly (readonly string[])[] = [
  ['william', 'bill', 'billy', 'will', 'willy', 'liam'],
  ['robert', 'bob', 'bobby', 'rob', 'robbie', 'bert'],
  ['richard', 'dick', 'rick', 'ricky', 'rich', 'richie'],
  ['elizabeth', 'liz', 'lizzie', 'beth', 'betty', 'eliza', 'libby', 'bess'],
  ['margaret', 'maggie', 'meg', 'peggy', 'marge', 'greta'],
  ['katherine', 'catherine', 'kathryn', 'kate', 'katie', 'kathy', 'cathy', 'kat', 'kitty'],
  ['james', 'jim', 'jimmy', 'jamie'],
  ['john', 'jack', 'johnny', 'jon'],
  ['jonathan', 'jon', 'jonny'],
  ['michael', 'mike', 'mikey', 'mick', 'mickey'],
  ['thomas', 'tom', 'tommy'],
  ['joseph', 'joe', 'joey'],
  ['charles', 'charlie', 'chuck', 'chas'],
  ['christopher', 'chris', 'kit'],
  ['christine', 'chris', 'chrissy', 'tina'],
  ['daniel', 'dan', 'danny'],
  ['matthew', 'matt', 'matty'],
  ['anthony', 'tony'],
  ['andrew', 'andy', 'drew'],
  ['alexander', 'alex', 'sandy', 'xander'],
  ['alexandra', 'alex', 'alexa', 'sandra', 'sandy'],
  ['benjamin', 'ben', 'benny', 'benji'],
  ['samuel', 'sam', 'sammy'],
  ['samantha', 'sam', 'sammy'],
  ['edward', 'ed', 'eddie', 'ted', 'ned'],
  ['nicholas', 'nick', 'nicky'],
  ['patrick', 'pat', 'paddy'],
  ['patricia', 'pat', 'patty', 'trish', 'tricia'],
  ['jennifer', 'jen', 'jenny'],
  ['susan', 'sue', 'susie', 'suzy'],
  ['deborah', 'debbie', 'deb'],
  ['rebecca', 'becky', 'becca', 'bec'],
  ['victoria', 'vicky', 'tori'],
  ['jessica', 'jess', 'jessie'],
  ['stephen', 'steven', 'steve', 'stevie'],
  ['timothy', 'tim', 'timmy'],
  ['zachary', 'zach', 'zac', 'zack'],
  ['joshua', 'josh'],
  ['nathan', 'nathaniel', 'nate'],
  ['abigail', 'abby', 'abbie'],
  ['isabella', 'isabel', 'izzy', 'bella'],
  ['henry', 'harry', 'hank'],
  ['lawrence', 'laurence', 'larry'],
  ['frederick', 'fred', 'freddie'],
  ['gregory', 'greg'],
  ['peter', 'pete'],
  ['david', 'dave', 'davey'],
  ['mary', 'molly', 'polly', 'mae'],
  ['ann', 'anne', 'anna', 'annie', 'nan'],
  ['dorothy', 'dot', 'dottie', 'dolly'],
];

/** name → canonical (first member) for every name belonging to a group. */
export const NICKNAME_CANON: ReadonlyMap<string, readonly string[]> = (() => {
  const index = new Map<string, string[]>();
  for (const group of NICKNAME_GROUPS) {
    for (const name of group) {
      const list = index.get(name) ?? [];
      list.push(group[0]);
      index.set(name, list);
    }
  }
  return index;
})();

/** True when both names belong to one nickname group (a name may sit in several, e.g. "chris"). */
export function areNicknames(a: string, b: string): boolean {
  const ca = NICKNAME_CANON.get(a);
  const cb = NICKNAME_CANON.get(b);
  if (!ca || !cb) return false;
  return ca.some((c) => cb.includes(c));
}
