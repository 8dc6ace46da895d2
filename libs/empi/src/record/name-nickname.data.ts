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

/**
 * More of the common US English diminutives, for matching only. The synthetic generator
 * (`synthetic/us-registration.generator.ts`) draws its nickname traps from `NICKNAME_GROUPS` alone:
 * its seeds keep producing the same records, and a generator that used every name the matcher
 * knows would test nothing. Added after the second, independently written generator used nicknames
 * the list lacked (Ron, Ken, Barb, Kim, Don, Sally, Betsy): a nickname read as a different given name
 * is a given-name conflict, so such duplicates went to review or became second persons. Same rule as
 * above: one formal name and its standard diminutives per group, nothing that is mostly a name of its
 * own today (Sadie and Sally as two diminutives of Sarah made sisters Sadie and Sally one person on a
 * never-fitted seed; Sadie and Theo are left out).
 */
export const MORE_NICKNAME_GROUPS: readonly (readonly string[])[] = [
  ['ronald', 'ron', 'ronnie'],
  ['donald', 'don', 'donnie', 'donny'],
  ['kenneth', 'ken', 'kenny'],
  ['barbara', 'barb', 'barbie'],
  ['kimberly', 'kim'],
  ['sarah', 'sally'],
  ['elizabeth', 'betsy'],
  ['gerald', 'gerry', 'jerry'],
  ['raymond', 'ray'],
  ['albert', 'al', 'bert'],
  ['douglas', 'doug'],
  ['jeffrey', 'jeff'],
  ['walter', 'walt'],
  ['eugene', 'gene'],
  ['harold', 'hal'],
  ['theodore', 'ted', 'teddy'],
  ['judith', 'judy'],
  ['cynthia', 'cindy'],
  ['pamela', 'pam'],
  ['melissa', 'missy'],
  ['leonard', 'len', 'lenny'],
  ['phillip', 'philip', 'phil'],
  ['francis', 'frank', 'frankie'],
  ['franklin', 'frank'],
  ['frances', 'fran', 'frannie'],
  ['arthur', 'art'],
  ['louis', 'lou'],
  ['vincent', 'vince', 'vinny'],
  ['russell', 'russ'],
  ['randall', 'randy'],
  ['terrence', 'terry'],
  ['jacob', 'jake'],
  ['amanda', 'mandy'],
  ['angela', 'angie'],
  ['jacqueline', 'jackie'],
  ['valerie', 'val'],
  ['virginia', 'ginny'],
  ['kathleen', 'kathy', 'kate'],
  ['stephanie', 'steph'],
  ['gwendolyn', 'gwen'],
  ['bradley', 'brad'],
  ['gabriel', 'gabe'],
  ['stanley', 'stan'],
  ['norman', 'norm'],
  ['herbert', 'herb'],
  ['bernard', 'bernie'],
  ['dennis', 'denny'],
  ['clifford', 'cliff'],
  ['wesley', 'wes'],
];

/** name → canonical (first member) for every name belonging to a group. */
export const NICKNAME_CANON: ReadonlyMap<string, readonly string[]> = (() => {
  const index = new Map<string, string[]>();
  for (const group of [...NICKNAME_GROUPS, ...MORE_NICKNAME_GROUPS]) {
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
