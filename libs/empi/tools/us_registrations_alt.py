#!/usr/bin/env python3
"""A second, independently written generator of US-style registrations, FEBRL CSV layout.

Why a second one: the rules and weights of the EMPI were read off errors of the TypeScript
generator (src/synthetic/us-registration.generator.ts). A matcher tuned to one generator can
miss what another produces, and the acceptance set is unseen. This one was written apart from
it, with its own choices:

- names: drawn by Census share from the top 3,000 surnames and top 800 female / 500 male given
  names (the public-domain tables in src/frequency/us-name-frequency.data.ts, read as data);
- households (45 % of draws): two adults of one surname, address and phone (birth years within
  4), up to three children; a quarter of the children come as twins (15 % of those triplets),
  siblings never share a given name; 15 % of households add a junior named after his father;
- duplicates per person: 0–3 (45/35/15/5 %), each with one to three corruptions drawn from:
  given-name typo (substitution, deletion, insertion, transposition), family-name typo, nickname
  (its own list), given/family swap, day/month swap, one birth-date digit, a move (new address,
  half the time a new phone), SSN dropped, phone dropped, one SSN digit, street typo, apartment
  dropped.

Usage: us_registrations_alt.py SEED [PERSONS] > dataset.csv   (rec-<n>-org / rec-<n>-dup-<k>)
"""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAME_DATA = os.path.join(HERE, '..', 'src', 'frequency', 'us-name-frequency.data.ts')

NICKNAMES = {
    'william': ['bill', 'will', 'billy'], 'robert': ['bob', 'rob', 'bobby'], 'richard': ['dick', 'rick'],
    'james': ['jim', 'jimmy'], 'john': ['jack', 'johnny'], 'margaret': ['peggy', 'meg', 'maggie'],
    'elizabeth': ['liz', 'beth', 'betsy', 'betty'], 'katherine': ['kate', 'kathy'], 'michael': ['mike'],
    'david': ['dave'], 'christopher': ['chris'], 'matthew': ['matt'], 'thomas': ['tom', 'tommy'],
    'joseph': ['joe'], 'daniel': ['dan', 'danny'], 'anthony': ['tony'], 'charles': ['chuck', 'charlie'],
    'edward': ['ted', 'ed'], 'henry': ['hank'], 'patricia': ['patty', 'pat'], 'jennifer': ['jen', 'jenny'],
    'susan': ['sue'], 'deborah': ['debbie'], 'rebecca': ['becky'], 'victoria': ['vicky'], 'jessica': ['jess'],
    'steven': ['steve'], 'andrew': ['andy'], 'nicholas': ['nick'], 'samuel': ['sam'], 'benjamin': ['ben'],
    'alexander': ['alex'], 'kimberly': ['kim'], 'barbara': ['barb'], 'dorothy': ['dot'], 'mary': ['polly', 'molly'],
    'sarah': ['sally'], 'donald': ['don'], 'kenneth': ['ken'], 'ronald': ['ron'], 'timothy': ['tim'],
    'gregory': ['greg'], 'lawrence': ['larry'],
}
STREETS = ['main st', 'oak ave', 'maple dr', 'cedar ln', 'elm st', 'park ave', 'washington blvd', 'lake rd', 'hill st',
           'pine st', 'church st', 'mill rd', 'river rd', 'sunset blvd', 'highland ave', 'jefferson st', 'lincoln ave',
           'franklin st', 'walnut st', 'spring st']
CITIES = [('springfield', 'il', '627'), ('columbus', 'oh', '432'), ('houston', 'tx', '770'), ('phoenix', 'az', '850'),
          ('denver', 'co', '802'), ('atlanta', 'ga', '303'), ('madison', 'wi', '537'), ('portland', 'or', '972'),
          ('raleigh', 'nc', '276'), ('tampa', 'fl', '336')]
LETTERS = 'abcdefghijklmnopqrstuvwxyz'


def name_table(source, constant, top):
    match = re.search(constant + r" = '([^']*)'", source)
    pairs = [entry.split(':') for entry in match.group(1).split()][:top]
    return [name for name, _ in pairs], [float(share) for _, share in pairs]


class Generator:
    def __init__(self, seed):
        self.r = random.Random(seed)
        source = open(NAME_DATA, encoding='utf-8').read()
        self.surnames = name_table(source, 'US_SURNAME_PERCENT', 3000)
        self.female = name_table(source, 'US_FEMALE_GIVEN_PERCENT', 800)
        self.male = name_table(source, 'US_MALE_GIVEN_PERCENT', 500)
        self.people = []

    def pick(self, table):
        return self.r.choices(table[0], weights=table[1])[0]

    def address(self):
        city, state, zip3 = self.r.choice(CITIES)
        apartment = self.r.choice(['', '', '', 'apt %d' % self.r.randint(1, 40)])
        return {'number': str(self.r.randint(1, 9999)), 'street': self.r.choice(STREETS), 'line2': apartment,
                'city': city, 'zip': '%s%02d' % (zip3, self.r.randint(0, 99)), 'state': state}

    def birth_date(self, first_year, last_year):
        return '%d%02d%02d' % (self.r.randint(first_year, last_year), self.r.randint(1, 12), self.r.randint(1, 28))

    def ssn(self):
        return '%d%d%d' % (self.r.randint(100, 899), self.r.randint(10, 99), self.r.randint(1000, 9999))

    def phone(self):
        return '%d%d%d' % (self.r.randint(201, 989), self.r.randint(200, 999), self.r.randint(1000, 9999))

    def person(self, sex=None, given=None, surname=None, dob=None, address=None, phone=None, household=None):
        sex = sex or self.r.choice('MF')
        if given is None:
            taken = {p['given'] for p in household or []}
            given = self.pick(self.female if sex == 'F' else self.male)
            while given in taken:
                given = self.pick(self.female if sex == 'F' else self.male)
        p = {'id': len(self.people), 'given': given, 'surname': surname or self.pick(self.surnames),
             'dob': dob or self.birth_date(1935, 2020), 'sex': sex, 'address': address or self.address(),
             'ssn': self.ssn() if self.r.random() < 0.8 else '',
             'phone': phone if phone is not None else (self.phone() if self.r.random() < 0.7 else '')}
        self.people.append(p)
        if household is not None:
            household.append(p)
        return p

    def household(self):
        members = []
        father = self.person(sex='M', dob=self.birth_date(1935, 1990), household=members)
        year = int(father['dob'][:4])
        shared = {'surname': father['surname'], 'address': father['address'], 'phone': father['phone']}
        mother = self.person(sex='F', dob=self.birth_date(year - 4, year + 4), household=members, **shared)
        first_child_year = min(max(int(mother['dob'][:4]) + 18, 1950), 2015)
        if self.r.random() < 0.15:  # a junior, named after his father
            self.person(sex='M', given=father['given'], dob=self.birth_date(first_child_year, first_child_year + 15), household=members, **shared)
        for _ in range(self.r.randint(0, 3)):
            dob = self.birth_date(first_child_year, min(first_child_year + 20, 2023))
            births = (2 if self.r.random() < 0.85 else 3) if self.r.random() < 0.25 else 1
            for _ in range(births):
                self.person(dob=dob, household=members, **shared)

    def typo(self, s):
        if len(s) < 3:
            return s
        i = self.r.randrange(len(s))
        kind = self.r.random()
        if kind < 0.3:
            return s[:i] + self.r.choice(LETTERS) + s[i + 1:]
        if kind < 0.55:
            return s[:i] + s[i + 1:]
        if kind < 0.8:
            return s[:i] + self.r.choice(LETTERS) + s[i:]
        i = min(i, len(s) - 2)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]

    def duplicate(self, p):
        d = dict(p, address=dict(p['address']))
        for _ in range(self.r.choice([1, 1, 2, 2, 3])):
            e = self.r.random()
            if e < 0.15:
                d['given'] = self.typo(d['given'])
            elif e < 0.28:
                d['surname'] = self.typo(d['surname'])
            elif e < 0.38 and d['given'] in NICKNAMES:
                d['given'] = self.r.choice(NICKNAMES[d['given']])
            elif e < 0.43:
                d['given'], d['surname'] = d['surname'], d['given']
            elif e < 0.50 and int(d['dob'][6:]) <= 12:
                d['dob'] = d['dob'][:4] + d['dob'][6:] + d['dob'][4:6]
            elif e < 0.60:
                i = self.r.randrange(2, 8)
                d['dob'] = d['dob'][:i] + str((int(d['dob'][i]) + self.r.choice([1, 9])) % 10) + d['dob'][i + 1:]
            elif e < 0.72:
                d['address'] = self.address()
                if self.r.random() < 0.5:
                    d['phone'] = self.phone()
            elif e < 0.80:
                d['ssn'] = ''
            elif e < 0.86:
                d['phone'] = ''
            elif e < 0.90 and d['ssn']:
                i = self.r.randrange(9)
                d['ssn'] = d['ssn'][:i] + str(self.r.randint(0, 9)) + d['ssn'][i + 1:]
            elif e < 0.95:
                d['address']['street'] = self.typo(d['address']['street'])
            else:
                d['address']['line2'] = ''
        return d

    def rows(self, persons):
        while len(self.people) < persons:
            if self.r.random() < 0.55:
                self.person()
            else:
                self.household()
        out = []
        for p in self.people:
            out.append(('rec-%d-org' % p['id'], p))
            for k in range(self.r.choices([0, 1, 2, 3], weights=[45, 35, 15, 5])[0]):
                out.append(('rec-%d-dup-%d' % (p['id'], k), self.duplicate(p)))
        self.r.shuffle(out)
        return out


def main():
    seed = int(sys.argv[1])
    persons = int(sys.argv[2]) if len(sys.argv) > 2 else 2500
    print('rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id, sex, phone_number')
    for rec_id, d in Generator(seed).rows(persons):
        a = d['address']
        print(', '.join([rec_id, d['given'], d['surname'], a['number'], a['street'], a['line2'], a['city'], a['zip'],
                         a['state'], d['dob'], d['ssn'], d['sex'], d['phone']]))


if __name__ == '__main__':
    main()
