// What the search bench's texts are made of: a vocabulary by rank (real chat
// words first, accented ones among the middle ranks, made-up words after),
// and the file names, URLs and identifiers developers paste into chat.
import { foldForSearch } from "../src/store/search-store.ts";
import { pickOf, type Random } from "./search-random.ts";

/** As the store expects terms: NFKD, combining marks removed, lower case. */
export const fold = foldForSearch;

// The vocabulary's head, most frequent first: the words chat is mostly made of.
const HEAD = `the i to a and it is you that we in for on this of be have not with just
so but can do are was what if at my me will get no yes ok all they need one about like
now there up out know think should would from how some when could more time today see
also then any here let did thanks going want new check still go make sure look work
build test deploy release review merge branch server client error issue ticket fix bug
meeting tomorrow morning call team please update change config data file report week
before after again back because been being both each every first good great last long
lunch next open other over same start stop take than them these thing those through
down find give help keep last later little much never only own right small something
tell try use very way well where which while who why yes yet run running failed failing
works working broken logs log staging prod production database query cache api endpoint
user users customer customers design docs doc page link image screen mobile web app
version upgrade rollback ship shipped pipeline job jobs queue worker timeout latency
memory cpu disk network retry alert alerts incident outage postmortem dashboard metric
metrics graph spike slow fast load traffic request requests response status code commit
commits pr prs diff patch approve approved blocked blocker estimate sprint planning
standup demo friday monday weekend holiday vacation coffee pizza thank sorry hey hi hello
morning night late early soon asap quick question answer idea plan plans roadmap budget
invoice contract legal sales marketing launch feature flag flags rollout experiment`
  .split(/\s+/)
  .filter((word, index, all) => word !== "" && all.indexOf(word) === index);

// Written with their accents; the store must find them as "cafe", "naive".
const ACCENTED = `café naïve résumé déjà façade jalapeño crème brûlée über Zürich São
señor fiancée Ångström piñata smörgåsbord entrée cliché soufflé doppelgänger Düsseldorf
Kraków Málaga Curaçao Øresund Bogotá`.split(/\s+/);

const ONSETS =
  "b c d f g h j k l m n p r s t v w z br ch cl cr dr fl gr pl pr sh sl st th tr".split(" ");
const VOWELS = "a e i o u ai ea ee io ou".split(" ");
const CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng"];

/** `size` words by rank: the head, the accented words spread among the middle ranks, made-up words after. */
export function vocabulary(size: number, random: Random): string[] {
  const words = [...HEAD];
  const taken = new Set(words.map(fold));
  while (words.length < size) {
    let word = "";
    const syllables = 2 + Math.floor(random() * 2);
    for (let i = 0; i < syllables; i++) {
      word += pickOf(random, ONSETS) + pickOf(random, VOWELS);
    }
    word += pickOf(random, CODAS);
    if (taken.has(word)) continue;
    taken.add(word);
    words.push(word);
  }
  ACCENTED.forEach((word, i) => {
    words.splice(Math.min(words.length, 300 + i * 60), 0, word);
  });
  return words.slice(0, size);
}

const FILE_STEMS =
  "report foo bar screenshot invoice notes design diagram budget roadmap logo backup export data photo slides minutes contract spec mockup".split(
    " ",
  );
const FILE_SUFFIXES = ["", "", "-q1", "-q2", "-q3", "-q4", "-final", "-v2", "_draft", "-2026"];
const EXTENSIONS = "png png png pdf pdf jpg csv txt docx xlsx zip json log md svg gif mp4".split(
  " ",
);
const HOSTS =
  "https://github.com https://docs.example.com https://wiki.example.org https://jira.example.com https://grafana.example.net https://stackoverflow.com www.example.org".split(
    " ",
  );
const PATH_PARTS =
  "api v1 v2 users docs setup-guide issues pull blob main src dashboards d wiki runbooks deploy questions settings billing reports search admin teams projects releases tags".split(
    " ",
  );
const IDENT_VERBS = "get set parse load save build make find handle fetch update create".split(" ");
const IDENT_NOUNS = "User Name Config File Session Room Message Token Timeout Cache Query Id".split(
  " ",
);
const IDENT_OBJECTS = "sess req res ctx opts config cfg app db cache user msg".split(" ");
const IDENT_FIELDS = "opts body userId timeoutMs params headers id name retries path".split(" ");

/** About 500 identifiers as they appear in developers' chat: camelCase, dotted, snake_case. */
export function identifiers(random: Random): string[] {
  const found = new Set<string>();
  while (found.size < 500) {
    const style = random();
    if (style < 0.45) {
      const second = random() < 0.5 ? pickOf(random, IDENT_NOUNS) : "";
      found.add(`${pickOf(random, IDENT_VERBS)}${pickOf(random, IDENT_NOUNS)}${second}`);
    } else if (style < 0.85) {
      found.add(`${pickOf(random, IDENT_OBJECTS)}.${pickOf(random, IDENT_FIELDS)}`);
    } else {
      found.add(
        `${pickOf(random, IDENT_VERBS)}_${pickOf(random, IDENT_NOUNS).toLowerCase()}_count`,
      );
    }
  }
  return [...found];
}

/** A file name as pasted into chat: `report-q3.pdf`, `foo.png`. */
export function fileName(random: Random): string {
  return `${pickOf(random, FILE_STEMS)}${pickOf(random, FILE_SUFFIXES)}.${pickOf(random, EXTENSIONS)}`;
}

/** A URL with a path of one to four parts, sometimes a query. */
export function url(random: Random): string {
  let text = pickOf(random, HOSTS);
  const parts = 1 + Math.floor(random() * 4);
  for (let i = 0; i < parts; i++) {
    text += `/${random() < 0.15 ? String(Math.floor(random() * 5000)) : pickOf(random, PATH_PARTS)}`;
  }
  if (random() < 0.2) text += `?tab=${pickOf(random, PATH_PARTS)}`;
  return text;
}
