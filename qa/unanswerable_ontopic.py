"""Hard, on-topic unanswerable French questions for coopqa.

Every question below is about a topic that the document
/work/shared/corpus/cooperation-multilaterale.txt (also in
/work/main/corpus/) really covers: it names a real entity of the text (a
FMMD edition, SHARAKA, the EU trust fund, PISERUMA, the ad hoc commission,
IRAM, AMEM, AVRR, the AU road map...). Retrieval should therefore land on a
close passage, but that passage does NOT contain the fact asked (a budget, a
precise date, a city, a person's name, a number of beneficiaries, a
duration, a list of members...). A good system must say that the document
does not give the answer instead of guessing or reusing a nearby figure.

These questions are meant to be added to the unanswerable part of
coopqa-fr.jsonl (ids u001-u020 are already there; none of those is repeated
here). Each question was checked by searching the document text: the fact
is absent, and cannot be worked out from other facts of the document.
Questions whose answer could be computed or inferred (for example the end
date of the 48-month EU programme, or the city of the 10th FMMD, which a
reader might take to be the "rencontre de Berlin") were left out on purpose.

Format: ONTOPIC_UNANSWERABLE is a list of
    (section_heading, question, why_absent)
- section_heading: the exact top-level heading line of the section the
  question is about (same constants as build_qa.py, plus the empty Arab
  League section, whose heading is the last line of the document);
- question: the French question, typed as real users would (some without
  accents, some with a straight apostrophe);
- why_absent: a short English note on what the document says nearby and
  why it does not answer the question.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_qa import A, E, G, M, N, T

L = "Coopération avec les pays de la ligue arabe"  # the empty last section, which build_qa.py has no item for

ONTOPIC_UNANSWERABLE = [
    # ---------------- Global Forum Migration et Développement (14) ----------------
    (G, "Comment s'appelait le Secrétaire général de l'ONU qui a proposé la création du FMMD ?",
     "The text says the FMMD was born from a proposal of 'the Secrétaire général des Nations Unies' "
     "at the 2006 High-Level Dialogue, but never names him."),
    (G, "Dans quelle ville suisse s'est tenu le forum de 2011 ?",
     "The 5th edition 's'est déroulée en Suisse en 2011' with its theme; no city is given."),
    (G, "la 8eme edition du forum organisee par la Turquie, c'etait dans quelle ville ?",
     "Only 'La Turquie a organisé la 8ème édition en 2015' and the theme; no city."),
    (G, "Dans quelle ville du Maroc s'est déroulée la 11ème édition du FMMD ?",
     "The 11th edition is only said to be organised by Morocco and Germany (2017) with a theme; "
     "no city (no Moroccan city other than Rabat, for the IOM mission, appears in the text)."),
    (G, "A quelles dates exactes le FMMD de Mexico a-t-il eu lieu en 2010 ?",
     "The 4th meeting is given as 'Mexico 2010' with its theme; no day or month."),
    (G, "Quels jours de juillet 2007 s'est tenu le premier forum à Bruxelles ?",
     "Brussels edition: only 'en juillet 2007' and its objectives; no exact days."),
    (G, "Combien de pays ont participé à la première réunion du FMMD à Bruxelles ?",
     "The Brussels paragraph gives place, month and agenda, but no number of participating countries."),
    (G, "Combien d'Etats font partie des Friends of the Forum ?",
     "Friends of the Forum is described as made of States and even UN agencies, consultative, "
     "meeting twice a year in Geneva; no number of members."),
    (G, "A quelle frequence se reunit la troika du FMMD ?",
     "The Troika's composition and mission (defining orientations) are given; the meeting frequency "
     "'au moins deux fois par an' is stated only for the Friends of the Forum, not for the Troika."),
    (G, "Quelles sont les organisations qui composent le Groupe mondial sur la migration ?",
     "The text only says the Global Migration Group 'comprend une vingtaine d'organisations "
     "internationales'; it lists none of them."),
    (G, "Quelles entreprises participent au Business Mechanism du forum ?",
     "The Business Mechanism is described as a session for the private sector and employers since "
     "the Berlin meeting; no company is named."),
    (G, "Quel est le budget annuel du Forum mondial sur la migration et le développement ?",
     "No budget of the FMMD is given; the only cost mentioned is that Friends-of-the-Forum "
     "delegates' travel is paid by their governments."),
    (G, "Combien de personnes composent l'unité de gestion de l'OIM qui appuie la présidence du forum ?",
     "The presidency is helped by 'une unité de gestion de l'OIM, ainsi que deux experts détachés'; "
     "the 'two' refers to the seconded experts, the size of the IOM unit is not given."),
    (G, "Quel ministre mauricien a présidé la 6ème édition du forum en 2012 ?",
     "The 6th edition is given as Ile Maurice 2012 with its theme; no person (minister or chair) is named."),

    # ---------------- Coopération avec l'Union Européenne (18) ----------------
    (E, "Qui a signé la convention de financement du 19 décembre 2017 côté marocain ?",
     "The convention is said to be signed 'entre le Royaume et le partenaire européen'; no signatory "
     "person or ministry is named."),
    (E, "Quelle part des 35 M€ est réservée au renforcement du dispositif de retour volontaire ?",
     "The 35 M€ / 48-month programme lists four components (including voluntary return) but gives "
     "no breakdown of the envelope."),
    (E, "Qui est chargé de mettre en oeuvre le programme d'appui aux politiques migratoires de 35 millions d'euros ?",
     "The text gives the signature date, amount, duration, aims and components, but no implementing "
     "agency (unlike SHARAKA, given to Expertise France)."),
    (E, "Quel jour de juin 2013 le partenariat pour la mobilite UE-Maroc a-t-il ete signe ?",
     "Only 'En juin 2013' and the signatories (MAECI, Commission, nine member States); no day."),
    (E, "En quelle année le projet SHARAKA a-t-il démarré ?",
     "SHARAKA's duration (3 ans), budget (5 271 000 euros) and manager (Expertise France) are given, "
     "but no start or end year."),
    (E, "Qui dirigeait le projet Sharaka au sein d'Expertise France ?",
     "Only the agency Expertise France is named; no project director or team leader."),
    (E, "Dans quels pays europeens SHARAKA a-t-il etudie les communautes marocaines ?",
     "The 'Connaissance' component targets 'principales communautés de Marocains en Europe'; no "
     "country is named."),
    (E, "Combien d'immigrés régularisés ont été insérés sur le marché du travail grâce à SHARAKA ?",
     "The labour-migration component aims at integrating regularised immigrants into the labour "
     "market; no result figure is given."),
    (E, "A quelles dates exactes s'est tenu le sommet de La Valette sur la migration ?",
     "Only 'En novembre 2015 ... lors du sommet de la valette'; no days."),
    (E, "Combien de pays africains peuvent bénéficier du fonds fiduciaire d'urgence de l'UE ?",
     "The trust fund serves 'pays demandeurs issus des trois régions cibles' (Afrique du Nord, Sahel "
     "et Lac du Tchad, Corne de l'Afrique); no number of countries."),
    (E, "Quelle part des 1,8 milliard d'euros du fonds fiduciaire vient du FED ?",
     "The 1,8 milliard comes 'du budget de l'UE et du Fonds européen de développement (FED)'; no split."),
    (E, "Depuis quand l'AECID exécute-t-elle le projet Vivre Ensemble sans discrimination ?",
     "The project is 'en exécution par l'AECID' with its aim; no start date or duration."),
    (E, "Combien de temps doit durer le projet d'empowerment juridique des migrants mis en oeuvre par la Cooperation belge ?",
     "'Empotement juridique des migrants': only objectives and implementer (Coopération Belge); no duration."),
    (E, "Quand le projet de coopération Sud-Sud avec le Sénégal, le Mali et la Côte d'Ivoire doit-il démarrer ?",
     "The Sud-Sud project 'sera exécuté par GIZ et expertise France' with four partner countries; no date."),
    (E, "Quel est le budget confié à ENABEL pour le projet d'intégration des politiques migratoires dans le développement local ?",
     "The local-development project names the three regions and ENABEL as implementer; no amount."),
    (E, "Pourquoi les regions Souss-Massa, Beni Mellal-Khenifra et l'Oriental ont-elles ete choisies pour le projet ENABEL ?",
     "The three regions are listed ('à savoir : Souss-Mass, Béni-Mellal Khénifra et L'Oriental') "
     "without any reason for the choice."),
    (E, "Quels sont les noms des associations qui mettront en oeuvre l'assistance humanitaire d'urgence aux migrants vulnérables ?",
     "Only 'Les organisations de la société civile mettront en œuvre ce programme'; none is named."),
    (E, "Combien de femmes et d'enfants migrants seront aidés par le projet d'assistance humanitaire d'urgence ?",
     "The project targets 'en priorité les femmes et les enfants'; no number of beneficiaries."),

    # ---------------- Coopération avec le système des nations Unies au Maroc (12) ----------------
    (N, "Quel jour de 2007 a ete signe l'accord de siege entre le Maroc et le HCR ?",
     "Only 'l'accord de siège signé en 2007'; no day or month."),
    (N, "Combien de membres compte la commission ad hoc de régularisation des réfugiés ?",
     "The ad hoc commission (since September 2013) hears asylum seekers and grants refugee status; "
     "its composition is not given."),
    (N, "Qui preside la commission ad-hoc qui auditionne les demandeurs d'asile ?",
     "The commission's role is described, but no chair (person or institution) is named."),
    (N, "Depuis quand le Bureau des Réfugiés et des Apatrides était-il fermé avant sa réouverture ?",
     "The text speaks of 'la réouverture du Bureau des Réfugiés et des Apatrides (BRA)' in 2013 but "
     "never says when or for how long it had been closed."),
    (N, "Quel est le budget du programme PISERUMA ?",
     "PISERUMA: implementer (AMAPPE), start (2007), ~600 projects, 2016 evaluation, EU financial "
     "support; no amount anywhere."),
    (N, "Combien de projets financés par le PISERUMA ont échoué ?",
     "Of 'près de 600 projets', only 'la majorité a réussi à perpétuer son activité'; no failure "
     "count or success rate."),
    (N, "Qui a réalisé l'évaluation du PISERUMA en 2016 ?",
     "Only 'Après une évaluation de ce programme en 2016'; the evaluator is not named."),
    (N, "Combien de refugies ont ete recrutes grace a la convention cadre signee avec la CGEM le 18 mai 2018 ?",
     "The HCR-MDCMREAM-CGEM framework agreement's date and aim are given; no results."),
    (N, "Dans quelles villes ont été organisées les journées mondiales du réfugié ?",
     "Events took place 'dans les différentes villes du Royaume'; no city is named."),
    (N, "En quelles années ont eu lieu les trois éditions de la journée mondiale du réfugié ?",
     "Only 'trois éditions de la journée mondiale du réfugié' so far; no years."),
    (N, "Quel est le montant de l'appui financier de l'Union européenne au programme « Parcours vers l'insertion professionnelle des migrants » ?",
     "The text says PISERUMA was strengthened 'à travers l'appui financier de l'Union Européenne' "
     "within that programme; no amount."),
    (N, "Combien d'ateliers de renforcement de capacités sur l'asile le MDCMREAM et le HCR ont-ils organisé ?",
     "Workshops for associations, public institutions, media and magistrates are mentioned, with "
     "GIZ and OIM support; no number of workshops."),

    # ---------------- Coopération avec l'OIT (6) ----------------
    (T, "Que veut dire le sigle IRAM ?",
     "IRAM is only described by its subject (labour migration governance, migrant workers' rights); "
     "the acronym is never expanded."),
    (T, "Qui a financé le projet IRAM de l'OIT ?",
     "IRAM's dates (2013-2017) and topics are given; its funder is not (only AMEM's funder, the "
     "Italian agency, is named)."),
    (T, "Quelle est la duree prevue du projet AMEM ?",
     "AMEM: launched November 2018, funded by the Italian agency, 2.400.000 Euros for three "
     "countries; no duration or end date."),
    (T, "Ou a eu lieu le lancement du projet AMEM en novembre 2018 ?",
     "Only the date and the tripartite delegations (Maroc, Mauritanie, Tunisie); no place."),
    (T, "Quelle part des 2,4 millions d'euros du projet AMEM revient au Maroc ?",
     "The budget is 'global de 2.400.000 Euros pour les trois pays'; no per-country share."),
    (T, "Combien de MRE ne sont pas couverts par des conventions bilatérales de sécurité sociale ?",
     "IRAM raised 'la protection sociale des MRE non couverts par des conventions bilatérales'; no figure."),

    # ---------------- Coopération avec l'OIM (8) ----------------
    (M, "Quand l'accord de siège entre le Maroc et l'OIM a-t-il été signé ?",
     "Only the entry into force ('en juillet 2006') is given, not the signature date."),
    (M, "Combien d'Etats sont membres de l'OIM ?",
     "The text says Morocco is a member since 1998; no total membership (unlike the OIT, 187)."),
    (M, "Quelles agences des Nations Unies font partie du Groupe Thématique Migration au Maroc ?",
     "Only 'L'OIM préside le Groupe Thématique Migration (GTM) des Nations Unies au Maroc'; no members."),
    (M, "Depuis quand l'OIM préside le GTM des Nations Unies au Maroc ?",
     "The chairing is stated without any date."),
    (M, "Combien de personnes travaillent à la mission de l'OIM à Rabat ?",
     "Only that the mission opened in Rabat in 2007; no staff figure."),
    (M, "Combien de victimes de traite l'OIM a-t-elle assistées au Maroc ?",
     "Victims of trafficking are listed among vulnerable groups helped; no numbers."),
    (M, "Quel montant d'aide à la réintégration reçoit un migrant qui part avec le programme AVRR ?",
     "AVRR is described (voluntary return and reintegration in dignity); no amount or package."),
    (M, "Combien de jeunes marocains en situation precaire ont beneficie de l'axe Appui a la jeunesse de l'OIM ?",
     "The youth axis lists education, training, insertion and psychosocial support; no beneficiary count."),

    # ---------------- Coopération avec l'Union Africaine (4) ----------------
    (A, "Quand le Roi Mohammed VI a-t-il présenté sa feuille de route sur la migration à l'Union africaine ?",
     "The road map 'présenté par sa Majesté à l'Union africaine' is mentioned with no date."),
    (A, "Quel est le budget du plan d'action decennal 2018-2030 de la politique migratoire pour l'Afrique ?",
     "Only the plan's period (2018-2030) is given; no budget."),
    (A, "Combien de pays africains ont ratifié le protocole sur la libre circulation des personnes ?",
     "Free movement, residence and establishment is listed as a coordination axis; no protocol, "
     "ratification or country count."),
    (A, "Quand la position commune africaine sur le Pacte mondial pour une migration sûre, ordonnée et régulière a-t-elle été adoptée ?",
     "The common African position is listed as a coordination axis, with no date or adopting body."),

    # ---------------- Coopération avec les pays de la ligue arabe (2) ----------------
    (L, "Avec quels pays de la ligue arabe le Maroc coopere-t-il sur la migration ?",
     "The section is only a heading (last line of the document) with no content at all."),
    (L, "Quels sont les axes de coordination du ministère avec la Ligue des Etats arabes en matière de migration ?",
     "Axes of coordination are listed for the African Union only; the Arab League section is empty."),
]


def write_jsonl() -> None:
    """Write coopqa-fr-unanswerable-ontopic.jsonl (ids o001…), the format of coopqa-fr.jsonl's unanswerable rows."""
    import json

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "coopqa-fr-unanswerable-ontopic.jsonl"), "w", encoding="utf-8") as out:
        for number, (section, question, why) in enumerate(ONTOPIC_UNANSWERABLE, start=1):
            row = {"id": f"o{number:03d}", "question": question, "answerable": False, "section": section, "why_absent": why}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write_jsonl()
