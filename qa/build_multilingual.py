#!/usr/bin/env python3
"""Builds and checks the English, Arabic and conversational coopqa sets.

Writes, next to this script (UTF-8 JSON Lines, ensure_ascii=False):

- coopqa-en.jsonl             English questions (ids en-q…, en-u…)
- coopqa-ar.jsonl             Arabic (MSA) questions (ids ar-q…, ar-u…)
- coopqa-conversations.jsonl  French conversations: follow-ups (c…) and
                              standalone questions after an unrelated
                              history (s…)

The English and Arabic questions are written by hand; their answer, evidence
and section are the French ones (the answer is a French span of the French
document). They are copied from SRC below, a frozen snapshot of the French
items of coopqa-fr.jsonl that this file uses. The check at the end compares
SRC with the current coopqa-fr.jsonl and fails if a source item has drifted
(build_qa.py numbers its items by position, so an insertion there renumbers
the ids).

Checks (standard library only), like check_qa.py: valid JSON, unique ids,
exact key sets, evidence an exact substring of the document occurring exactly
once and lying inside its section, answer an exact substring of evidence,
no duplicate question within a file, history shape, standalone history on
other sections than the last question, minimum counts. Exit status 1 on any
error.

Usage: python3 qa/build_multilingual.py
"""
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DOC_NAME = "cooperation-multilaterale.txt"
DOC_PATH = os.path.join(HERE, os.pardir, "corpus", DOC_NAME)
FR_JSONL = os.path.join(HERE, "coopqa-fr.jsonl")
OUT_EN = os.path.join(HERE, "coopqa-en.jsonl")
OUT_AR = os.path.join(HERE, "coopqa-ar.jsonl")
OUT_CONV = os.path.join(HERE, "coopqa-conversations.jsonl")

sys.path.insert(0, HERE)
from build_qa import A, E, G, M, N, T  # noqa: E402  (the French set's section names, one home)
from check_qa import occurrences, section_spans  # noqa: E402  (the French set's checks)

L = "Coopération avec les pays de la ligue arabe"  # empty section
# Top-level headings in document order (as in check_qa.py).
HEADINGS = [G, E, N, T, M, A, L]

# Minimum counts asked for.
MIN_ANSWERABLE = 55
MIN_UNANSWERABLE = 12
MIN_FOLLOWUP = 44
MIN_STANDALONE = 24

# ---------------------------------------------------------------------------
# Frozen copy of the French items used here:
# source_id -> (section, question, answer, evidence), copied from coopqa-fr.jsonl.
# ---------------------------------------------------------------------------
SRC = {
    'q001': (G,
             "c'est quoi le FMMD ?",
             'Forum Mondial sur la Migration et le Développement',
             'Le Forum Mondial sur la Migration et le Développement (FMMD) est né suite à la proposition du Secrétaire général des Nations Unies'),
    'q002': (G,
             "A l'initiative de qui le forum mondial migration et developpement a-t-il ete cree ?",
             'Secrétaire général des Nations Unies',
             'est né suite à la proposition du Secrétaire général des Nations Unies, lors du Dialogue de Haut Niveau'),
    'q003': (G,
             "Quand s'est tenu le Dialogue de haut niveau de l'ONU d'où est sorti le FMMD ?",
             'les 14 et 15 septembre 2006',
             'lors du Dialogue de Haut Niveau qui s’est tenu les 14 et 15 septembre 2006 à l’Assemblée Générale'),
    'q004': (G,
             'Quel gouvernement a lancé le processus du FMMD ?',
             'Le Gouvernement belge',
             'Le Gouvernement belge a œuvré par la suite pour le lancement du processus du FMMD'),
    'q005': (G,
             'Est-ce que les conclusions du Forum mondial sont juridiquement contraignantes pour les Etats ?',
             'non contraignant',
             'en tant que cadre consultatif volontaire, non contraignant et officieux'),
    'q008': (G,
             "Le Groupe mondial sur la migration regroupe combien d'organisations ?",
             'une vingtaine',
             '(qui comprend une vingtaine d’organisations internationales)'),
    'q011': (G,
             "Comment s'appelle la session du forum réservée au secteur privé ?",
             'Business Mechanism',
             'une session spéciale dédiée au secteur privé, dénommée « Business Mechanism »'),
    'q012': (G,
             'Depuis quelle réunion le secteur privé a-t-il une session spéciale au Forum ?',
             'Depuis la rencontre de Berlin',
             'Depuis la rencontre de Berlin, le Forum a institué une session spéciale dédiée au secteur privé'),
    'q014': (G,
             'Par qui la présidence du Forum est-elle assistée ?',
             'une unité de gestion de l’OIM, ainsi que deux experts détachés',
             'aidé par une unité de gestion de l’OIM, ainsi que deux experts détachés auprès de la présidence'),
    'q015': (G,
             'La troïka du forum mondial, elle est composée de qui ?',
             'l’Etat qui a organisé l’édition précédente du Forum, l’Etat qui assure la présidence actuelle et l’Etat qui assurera la présidence l’année d’après',
             'elle est composée de l’Etat qui a organisé l’édition précédente du Forum, l’Etat qui assure la présidence actuelle et l’Etat qui assurera la présidence l’année d’après'),
    'q016': (G,
             'Quel est le rôle de la Troïka dans le FMMD ?',
             'définir les orientations du Forum',
             'Elle a pour mission de définir les orientations du Forum.'),
    'q018': (G,
             'Où et à quelle fréquence se réunissent les amis du forum ?',
             'au moins deux fois par an à Genève',
             'Elle se réunit au moins deux fois par an à Genève'),
    'q019': (G,
             "Qui prend en charge les frais de voyage et d'hôtel des délégués aux réunions des Friends of the Forum ?",
             'leurs gouvernements respectifs',
             'les frais de déplacement et d’hébergement des représentants des Etats, sont supportés par leurs gouvernements respectifs'),
    'q020': (G,
             'Où et quand a eu lieu la toute première édition du FMMD ?',
             'à Bruxelles, en juillet 2007',
             'La Belgique a organisé le premier FMMD à Bruxelles, en juillet 2007.'),
    'q021': (G,
             "Quel était l'objectif principal de la réunion de Bruxelles ?",
             'examiner l’impact de la migration sur le développement socio-économique',
             'L’objectif principal de cette réunion était d’examiner l’impact de la migration sur le développement socio-économique'),
    'q022': (G,
             "A Bruxelles en 2007, quelle était la deuxième grande question à l'ordre du jour ?",
             'la cohérence des politiques en matière de migration et de développement',
             'La deuxième question principale était la cohérence des politiques en matière de migration et de développement.'),
    'q024': (G,
             'Quel était le thème central du forum de Manille ?',
             'Protéger et renforcer les capacités des migrants pour le développement',
             'il s’est déroulé autour du thème central « Protéger et renforcer les capacités des migrants pour le développement »'),
    'q025': (G,
             "Les dates exactes de la réunion d'Athènes ?",
             'du 2 au 5 novembre 2009',
             'La troisième réunion a eu lieu à Athènes, du 2 au 5 novembre 2009.'),
    'q026': (G,
             'Quel thème la présidence grecque a-t-elle retenu en 2009 ?',
             'Intégrer les politiques migratoires dans les stratégies de développement au bénéfice de tous',
             'La Présidence grecque avait choisi comme thème principal : « Intégrer les politiques migratoires dans les stratégies de développement au bénéfice de tous ».'),
    'q027': (G,
             "Ou s'est tenue la 4eme reunion du FMMD ?",
             'Mexico',
             'La quatrième réunion du FMMD : Mexico 2010.'),
    'q029': (G,
             'Dans quel pays a eu lieu le FMMD de 2011 ?',
             'en Suisse',
             'La 5ème édition du Forum : s’est déroulée en Suisse en 2011'),
    'q031': (G,
             "Le forum 2012, c'était où ?",
             'en Ile Maurice',
             'La 6ème édition du Forum : s’est déroulée en Ile Maurice, en 2012'),
    'q033': (G,
             'Quel pays a accueilli la 7e édition du Forum mondial ?',
             'Suède',
             'La 7ème édition du Forum Mondial pour la Migration et le Développement/ Suède'),
    'q036': (G,
             "Quel était le thème de l'édition turque de 2015 ?",
             'Renforcement des partenariats : la mobilité humaine au service du développement durable',
             'qui a eu pour thème « Renforcement des partenariats : la mobilité humaine au service du développement durable »'),
    'q039': (G,
             'Quels pays ont coorganisé la 10ème édition du FMMD ?',
             'L’Allemagne et le Maroc',
             'L’Allemagne et le Maroc ont organisé la 10ème édition du forum (2017)'),
    'q041': (G,
             "Thème de la 11e édition du forum organisée par le Maroc et l'Allemagne ?",
             'Honorer les engagements internationaux pour libérer les potentialités des migrants pour le développement',
             'sous le thème « Honorer les engagements internationaux pour libérer les potentialités des migrants pour le développement »'),
    'q043': (E,
             "Quand a été signée la convention de financement UE-Maroc pour l'appui aux politiques migratoires ?",
             'le 19 décembre 2017',
             'une convention de financement pour l’appui aux politiques migratoires a été signée le 19 décembre 2017 entre le Royaume et le partenaire européen'),
    'q044': (E,
             "Combien l'UE a mis dans le programme signé fin 2017 ?",
             '35 M€',
             'Doté d’une enveloppe budgétaire de 35 M€ pour une durée de 48 mois'),
    'q045': (E,
             "Le programme d'appui aux politiques migratoires est prévu sur quelle durée ?",
             '48 mois',
             'Doté d’une enveloppe budgétaire de 35 M€ pour une durée de 48 mois'),
    'q050': (E,
             "Le programme financé par l'UE touche-t-il au retour volontaire des migrants ?",
             'Le renforcement du dispositif national de retour volontaire',
             'Le renforcement du dispositif national de retour volontaire du Maroc vers les pays d’origine.'),
    'q051': (E,
             "Quand le partenariat pour la mobilité entre l'UE et le Maroc a-t-il été signé ?",
             'En juin 2013',
             'En juin 2013, un Partenariat pour la mobilité UE-Maroc a été signé'),
    'q052': (E,
             "Quel ministère marocain a signé le partenariat de mobilité avec l'Europe ?",
             'Ministère des\xa0 Affaires Étrangères et de la Coopération Internationale',
             'a été signé entre le Ministère des\xa0 Affaires Étrangères et de la Coopération Internationale, la Commission européenne'),
    'q053': (E,
             "Combien d'Etats membres de l'UE participent au partenariat pour la mobilité ?",
             'neuf',
             'la Commission européenne et neuf Etats membres de l’Union européenne participant à ce partenariat'),
    'q054': (E,
             'Quels sont les pays européens qui participent au partenariat pour la mobilité UE-Maroc ?',
             'Belgique, Allemagne, Espagne, France, Italie, Pays-Bas, Portugal, Suède et Royaume-Uni',
             '(Belgique, Allemagne, Espagne, France, Italie, Pays-Bas, Portugal, Suède et Royaume-Uni)'),
    'q056': (E,
             'Quelle agence a géré la mise en oeuvre de Sharaka ?',
             'Expertise France',
             'le projet SHARAKA a été mis en œuvre dans le cadre d’une délégation de gestion à l’agence publique Expertise France'),
    'q057': (E,
             'Quel était le budget du projet SHARAKA ?',
             '5 271 000 euros',
             'pour une durée de 3 ans et un budget de 5 271 000 euros'),
    'q058': (E,
             'Combien de temps a duré le projet SHARAKA ?',
             '3 ans',
             'pour une durée de 3 ans et un budget de 5 271 000 euros'),
    'q060': (E,
             "Pourquoi SHARAKA cherchait-il à mobiliser davantage les Marocains résidant à l'étranger ?",
             'pour la promotion du développement socioéconomique du Royaume',
             'une mobilisation accrue des Marocains résidant à l’étranger pour la promotion du développement socioéconomique du Royaume'),
    'q064': (E,
             "Dans le volet migration de travail de SHARAKA, quels immigrés sont visés pour l'intégration sur le marché du travail ?",
             'immigrés régularisés',
             'Renforcer les capacités des autorités marocaines dans l’intégration des immigrés régularisés sur le marché́ du travail marocain et le placement à l’international des travailleurs marocains.'),
    'q068': (E,
             "Quand la Commission européenne a-t-elle lancé son fonds fiduciaire d'urgence pour l'Afrique ?",
             'En novembre 2015',
             'En novembre 2015, la Commission européenne a lancé lors du sommet de la valette sur la migration'),
    'q071': (E,
             "De combien est doté le fonds fiduciaire d'urgence de l'UE ?",
             '1,8 milliard d’Euros',
             'qui renferme 1,8 milliard d’Euros issu du budget de l’UE et du Fonds européen de développement (FED)'),
    'q073': (E,
             "Quelles sont les trois régions ciblées par le fonds fiduciaire d'urgence ?",
             'Afrique du Nord, Sahel et Lac du Tchad et la Corne de l’Afrique',
             'des pays demandeurs issus des trois régions cibles (Afrique du Nord, Sahel et Lac du Tchad et la Corne de l’Afrique)'),
    'q080': (E,
             'Qui exécute le projet Vivre Ensemble sans discrimination ?',
             'l’agence espagnole de coopération Internationale (AECID)',
             'Projet en exécution par l’agence espagnole de coopération Internationale (AECID).'),
    'q081': (E,
             "Qui va mettre en oeuvre le projet d'empowerment juridique des migrants ?",
             'la Coopération Belge',
             'sera mis en oeuvre par la Coopération Belge'),
    'q083': (E,
             'Quels sont les pays partenaires du projet de coopération Sud-Sud financé par le fonds ?',
             'Maroc – Sénégal – Mali – Côte d’ivoire',
             'Les principaux Pays partenaires de ce projet qui sera exécuté par GIZ et expertise France : Maroc – Sénégal – Mali – Côte d’ivoire'),
    'q084': (E,
             'Qui exécute le projet Coopération Sud-Sud ?',
             'GIZ et expertise France',
             'ce projet qui sera exécuté par GIZ et expertise France'),
    'q085': (E,
             "Dans quelles régions marocaines se déploie le projet d'intégration des politiques migratoires dans le développement local ?",
             'Souss-Mass, Béni-Mellal Khénifra et L’Oriental',
             'au niveau de trois régions, à savoir : Souss-Mass, Béni-Mellal Khénifra et L’Oriental'),
    'q086': (E,
             'A qui a été confiée la mise en oeuvre du projet de développement local dans les trois régions ?',
             'ENABEL',
             'Sa mise en œuvre est attribuée à ENABEL – (Coopération belge)'),
    'q087': (E,
             "Le projet d'assistance humanitaire d'urgence cible en priorité qui ?",
             'les femmes et les enfants',
             'en priorité les femmes et les enfants afin de réduire leur vulnérabilité et les risques encourus vis-à-vis des réseaux de traite'),
    'q088': (E,
             "Qui va mettre en œuvre le programme d'assistance humanitaire d'urgence aux migrants vulnérables ?",
             'Les organisations de la société civile',
             'Les organisations de la société civile mettront en œuvre ce programme.'),
    'q089': (N,
             "En quelle année l'accord de siège entre le Maroc et le HCR a-t-il été signé ?",
             'en 2007',
             'En vertu de l’accord de siège signé en 2007 entre le Maroc et le Haut-commissariat des Nations Unies pour les Réfugiés'),
    'q091': (N,
             'Depuis quand existe la commission ad hoc de régularisation des réfugiés ?',
             'Depuis septembre 2013',
             'Depuis septembre 2013, avec l’établissement de la Commission adhoc de régularisation des réfugiés'),
    'q092': (N,
             "BRA c'est quoi ?",
             'Bureau des Réfugiés et des Apatrides',
             'la réouverture du Bureau des Réfugiés et des Apatrides (BRA)'),
    'q093': (N,
             'Le Bureau des réfugiés et apatrides a été rouvert auprès de quel ministère ?',
             'Ministère des Affaires Étrangères et de la Coopération Internationale (MAECI)',
             'la réouverture du Bureau des Réfugiés et des Apatrides (BRA) auprès du Ministère des Affaires Étrangères et de la Coopération Internationale (MAECI)'),
    'q094': (N,
             "Aujourd'hui, qui décide d'accorder le statut de réfugié au Maroc ?",
             'la commission ad-hoc',
             'les nouvelles demandes d’asile sont maintenant référées par le HCR auprès de la commission ad-hoc qui auditionne les demandeurs d’asile et décide sur la délivrance du statut de réfugié aux demandeurs d’asile'),
    'q096': (N,
             'Les réfugiés peuvent-ils accéder aux services ouverts aux migrants ?',
             'l’ensemble des services ouverts aux migrants au Maroc',
             'les demandeurs d’asile et réfugiés peuvent bénéficier, selon leur situation, de l’ensemble des services ouverts aux migrants au Maroc'),
    'q097': (N,
             "La nouvelle politique nationale d'immigration et d'asile a été adoptée en quelle année ?",
             '2013',
             'dans le cadre de la nouvelle politique nationale d’immigration et d’asile, adoptée en 2013'),
    'q098': (N,
             'Dans quels domaines le HCR et ses partenaires apportent une assistance directe aux réfugiés ?',
             'l’éducation, la santé, le logement, l’insertion professionnelle et l’assistance juridique et judiciaire',
             'd’une assistance directe apportée par le HCR et ses partenaires dans le domaine de l’éducation, la santé, le logement, l’insertion professionnelle et l’assistance juridique et judiciaire'),
    'q100': (N,
             "Quels types d'événements ont marqué les journées mondiales du réfugié au Maroc ?",
             'culturels, économiques, sociales et sportifs',
             'qui ont connu la réalisation d’une série d’évènements culturels, économiques, sociales et sportifs'),
    'q101': (N,
             "Quelle agence appuie le partenariat germano-marocain pour l'asile et la protection des réfugiés ?",
             'l’Agence Allemande de coopération (GIZ)',
             'mené par le MDCMREAM avec l’appui de l’Agence Allemande de coopération (GIZ)'),
    'q103': (N,
             "Combien d'éditions de la journée mondiale du réfugié ont été organisées avec le HCR ?",
             'trois éditions',
             'l’organisation, jusqu’à présent de trois éditions de la journée mondiale du réfugié'),
    'q104': (N,
             "Quels acteurs ont bénéficié des ateliers de renforcement de capacités sur l'asile ?",
             'les associations de la société civile, les institutions publiques, les médias et les magistrats',
             'des ateliers de renforcement de capacités des acteurs, notamment les associations de la société civile, les institutions publiques, les médias et les magistrats dans le domaine de l’asile'),
    'q106': (N,
             'Que signifie le sigle PISERUMA ?',
             'Programme d’Insertion Socio-économique des Réfugiés Urbains au Maroc',
             'le Programme d’Insertion Socio-économique des Réfugiés Urbains au Maroc (PISERUMA)'),
    'q107': (N,
             'Quelle association met en oeuvre le PISERUMA ?',
             'l’Association Marocaine d’Appui à la Promotion de la Petite Entreprise (AMAPPE)',
             'mis en oeuvre par l’Association Marocaine d’Appui à la Promotion de la Petite Entreprise (AMAPPE)'),
    'q108': (N,
             "Quand a été signée la convention cadre avec la CGEM pour l'insertion des réfugiés ?",
             'le 18 mai 2018',
             'la signature de la convention cadre avec le MDCMREAM et la CGEM, le 18 mai 2018 en vue de faciliter l’insertion socioprofessionnelle des réfugiés au Maroc'),
    'q111': (N,
             'Combien de projets de réfugiés ont été soutenus par le PISERUMA ?',
             'près de 600 projets',
             'il a bénéficié à près de 600 projets portés par des réfugiés, dont la majorité a réussi à perpétuer son activité économique'),
    'q113': (N,
             'Quels acteurs institutionnels ont rejoint le PISERUMA après son évaluation ?',
             'ANAPEC et ODCO',
             'l’implication d’autres acteurs institutionnels (ANAPEC et ODCO)'),
    'q115': (T,
             "L'OIT a été créée quand ?",
             'en 1919',
             'L’OIT a été fondée en 1919 sous l’égide du Traité de Versailles'),
    'q116': (T,
             "Sous l'égide de quel traité l'Organisation internationale du travail a-t-elle été fondée ?",
             'Traité de Versailles',
             'L’OIT a été fondée en 1919 sous l’égide du Traité de Versailles'),
    'q118': (T,
             "Pourquoi dit-on que l'OIT est une agence tripartite ?",
             'des représentants des gouvernements, employeurs et travailleurs',
             'Unique agence ‘tripartite’ de l’ONU, l’OIT réunit des représentants des gouvernements, employeurs et travailleurs'),
    'q119': (T,
             "Combien d'Etats membres compte l'OIT ?",
             '187 Etats Membres',
             'employeurs et travailleurs de 187 Etats Membres'),
    'q121': (T,
             "La coopération entre le ministère des MRE et l'OIT a débuté en quelle année et avec quel projet ?",
             'en 2013 avec le projet IRAM',
             'a commencée pratiquement en 2013 avec le projet IRAM'),
    'q122': (T,
             'Sur quoi portait le projet IRAM ?',
             'l’amélioration de la gouvernance de la migration de main d’œuvre et la protection des droits des travailleurs migrants',
             'le projet IRAM qui portait sur l’amélioration de la gouvernance de la migration de main d’œuvre et la protection des droits des travailleurs migrants'),
    'q123': (T,
             "Le projet IRAM s'est terminé quand ?",
             'en 2017',
             'Ayant pris fin en 2017'),
    'q125': (T,
             'Quel dispositif de veille le projet IRAM a-t-il proposé de créer au sein du ministère ?',
             'un système de veille juridique sur les droits des migrants',
             'la mise en place d’un système de veille juridique sur les droits des migrants au sein du Ministère'),
    'q127': (T,
             "AMEM, c'est l'acronyme de quoi ?",
             'Appui à la Migration Equitable pour le Maghreb',
             'nouveau projet intitulé AMEM «\xa0Appui à la Migration Equitable pour le Maghreb\xa0»'),
    'q129': (T,
             'Quels pays sont concernés par le projet AMEM ?',
             'du Maroc, de la Mauritanie et de la Tunisie',
             'les délégations tripartites du Maroc, de la Mauritanie et de la Tunisie'),
    'q130': (T,
             'Qui finance le projet AMEM ?',
             'l’Agence Italienne de Coopération pour le développement',
             'Financé par l’Agence Italienne de Coopération pour le développement'),
    'q131': (T,
             'Quel est le budget global du projet AMEM ?',
             '2.400.000 Euros',
             'pour un budget global de 2.400.000 Euros pour les trois pays'),
    'q132': (T,
             "Sur quoi s'appuie le projet AMEM ?",
             'les résultats et les recommandations du projet IRAM',
             'Le Projet AMEM s’appui sur les résultats et les recommandations du projet IRAM.'),
    'q133': (M,
             "En quelle année l'OIM a-t-elle été fondée ?",
             '1951',
             'Fondée en 1951, l’OIM est la principale organisation intergouvernementale dans le domaine de la migration'),
    'q135': (M,
             "Quand l'OIM a-t-elle rejoint le système des Nations Unies ?",
             'en septembre 2016',
             'L’OIM est devenu une Agence rattachée au Système des Nations Unies lors du Sommet pour les réfugiés et les migrants organisé à New York en septembre 2016.'),
    'q136': (M,
             "Lors de quel sommet l'OIM est devenue agence apparentée de l'ONU ?",
             'Sommet pour les réfugiés et les migrants',
             'lors du Sommet pour les réfugiés et les migrants organisé à New York'),
    'q137': (M,
             "Depuis quand le Maroc est-il membre de l'OIM ?",
             'depuis 1998',
             'Le Maroc est membre de l’OIM depuis 1998.'),
    'q138': (M,
             "Quand l'accord de siège entre le Maroc et l'OIM est-il entré en vigueur ?",
             'en juillet 2006',
             'Suite à l’entrée en vigueur de l’accord de siège entre le Royaume du Maroc et l’OIM en juillet 2006'),
    'q139': (M,
             "En quelle année l'OIM a ouvert sa mission à Rabat ?",
             'en 2007',
             'l’OIM a ouvert sa mission à Rabat en 2007'),
    'q140': (M,
             'Qui préside le Groupe Thématique Migration des Nations Unies au Maroc ?',
             'L’OIM',
             'L’OIM préside le Groupe Thématique Migration (GTM) des Nations Unies au Maroc.'),
    'q142': (M,
             "Combien d'axes thématiques structurent l'intervention de l'OIM au Maroc ?",
             '3 axes thématiques',
             'Concrètement, l’OIM intervient au Maroc à travers 3 axes thématiques'),
    'q151': (M,
             "Quels groupes vulnérables l'OIM assiste-t-elle au Maroc ?",
             'personnes âgées, enfants non accompagnés et séparés, victimes de traite, personnes malades',
             '(personnes âgées, enfants non accompagnés et séparés, victimes de traite, personnes malades etc.)'),
    'q152': (M,
             "Quel type d'assistance directe l'OIM apporte aux groupes vulnerables ?",
             'une assistance médicale, humanitaire et psychosociale',
             'à travers une assistance médicale, humanitaire et psychosociale'),
    'q153': (M,
             'Que signifie AVRR ?',
             'Aide au retour volontaire et à la réintégration',
             'à travers le programme AVRR (Aide au retour volontaire et à la réintégration)'),
    'q156': (M,
             "Autour de quoi s'articulent les programmes jeunesse de l'OIM ?",
             'l’éducation et l’orientation, la formation et l’insertion professionnelle',
             'Les programmes de cet axe s’articulent autour de l’éducation et l’orientation, la formation et l’insertion professionnelle'),
    'q157': (A,
             'Quel rôle joue le Maroc en Afrique en matiere de migration ?',
             'un rôle central',
             'Le Maroc joue un rôle central au niveau de l’Afrique dans le domaine de la migration.'),
    'q158': (A,
             "Dans quelle vision s'inscrit l'action du Maroc en Afrique sur la migration ?",
             'la nouvelle vision de Sa Majesté le Roi Mohammed VI',
             'Ce rôle s’inscrit dans la nouvelle vision de Sa Majesté le Roi Mohammed VI'),
    'q159': (A,
             "Qu'est-ce que le Roi a présenté à l'Union africaine pour la gestion de la migration ?",
             'la feuille de route',
             'la feuille de route présenté par sa Majesté à l’Union africaine pour la gestion de la migration en Afrique'),
    'q160': (A,
             "Quelle est la vision de l'UA à laquelle l'action du Maroc se conforme ?",
             'Afrique intégrée, prospère et en paix avec elle-même',
             'guidée par la vision d’une « Afrique intégrée, prospère et en paix avec elle-même'),
    'q161': (A,
             "Selon la vision de l'UA, l'Afrique doit être dirigée par qui ?",
             'ses propres citoyens',
             'soutenue et dirigée par ses propres citoyens'),
    'q163': (A,
             "Sur quel pacte mondial le Maroc et l'UA coordonnent-ils une position commune africaine ?",
             'le Pacte mondial pour une migration sûre, ordonnée et régulière',
             'La position commune africaine sur le Pacte mondial pour une migration sûre, ordonnée et régulière'),
    'q164': (A,
             "Le plan d'action decennal de la politique migratoire pour l'Afrique couvre quelle periode ?",
             '2018-2030',
             'La politique migratoire pour l’Afrique et son Plan d’action décennal (2018-2030)'),
    'q165': (A,
             "Sur la question des diasporas, en quoi consiste la coordination avec l'UA ?",
             'L’échange d’expériences en matière de gestion des diasporas',
             'L’échange d’expériences en matière de gestion des diasporas et leur contribution au développement du Continent.'),
}

# ---------------------------------------------------------------------------
# English: (source_id, question). Natural English, not word-for-word.
# ---------------------------------------------------------------------------
EN = [
    # Global Forum Migration et Développement
    ("q001", "What does the acronym FMMD stand for?"),
    ("q003", "When was the UN High-Level Dialogue that gave birth to the Global Forum held?"),
    ("q004", "Which country's government got the GFMD process off the ground?"),
    ("q005", "Are states legally bound by what comes out of the Global Forum?"),
    ("q008", "Roughly how many international organisations belong to the Global Migration Group?"),
    ("q011", "what's the name of the forum's special session for the private sector?"),
    ("q015", "Who sits on the GFMD Troika?"),
    ("q018", "Where do the Friends of the Forum meet, and how often?"),
    ("q020", "Where and when did the very first GFMD take place?"),
    ("q024", "What was the central theme of the 2008 Manila forum?"),
    ("q027", "Which city hosted the fourth GFMD meeting?"),
    ("q033", "Which country hosted the 7th Global Forum on Migration and Development?"),
    ("q039", "Which two countries co-hosted the 10th GFMD?"),
    ("q041", "What theme did Morocco and Germany pick for the 11th edition of the forum?"),
    # Coopération avec l’Union Européenne
    ("q043", "When did Morocco and the EU sign the financing agreement supporting migration policies?"),
    ("q044", "How much funding comes with the EU migration policy support programme signed in December 2017?"),
    ("q045", "How long is the EU-funded migration policy support programme supposed to run?"),
    ("q051", "When was the EU-Morocco Mobility Partnership signed?"),
    ("q053", "How many EU member states take part in the Mobility Partnership with Morocco?"),
    ("q056", "Which agency was put in charge of running the SHARAKA project?"),
    ("q057", "how much money did SHARAKA have?"),
    ("q060", "Why was SHARAKA trying to get Moroccans living abroad more involved?"),
    ("q068", "When did the European Commission launch its Emergency Trust Fund for Africa?"),
    ("q071", "How much money is in the EU Emergency Trust Fund for Africa?"),
    ("q073", "Which three regions does the EU Emergency Trust Fund focus on?"),
    ("q080", "Who is carrying out the 'Living Together without Discrimination' project?"),
    ("q083", "Which countries are the main partners of the South-South Cooperation project?"),
    ("q085", "In which Moroccan regions is the project on bringing migration policy into local development being rolled out?"),
    ("q086", "Who was given the job of implementing the local development project in the three regions?"),
    ("q088", "Who is going to deliver the emergency humanitarian aid programme for highly vulnerable migrants?"),
    # Coopération avec le système des nations Unies au Maroc
    ("q089", "What year did Morocco and UNHCR sign their headquarters agreement?"),
    ("q091", "Since when has the ad hoc commission for regularising refugees existed?"),
    ("q092", "What does BRA stand for in Morocco's asylum system?"),
    ("q094", "Who decides these days whether an asylum seeker in Morocco is granted refugee status?"),
    ("q097", "In what year was Morocco's new national immigration and asylum policy adopted?"),
    ("q098", "In which areas do UNHCR and its partners give refugees direct assistance?"),
    ("q103", "How many World Refugee Day events have been organised so far together with UNHCR?"),
    ("q106", "What is PISERUMA short for?"),
    ("q108", "When was the framework agreement with the CGEM on getting refugees into work signed?"),
    ("q111", "How many refugee-run projects has PISERUMA supported?"),
    ("q113", "Which institutions came on board PISERUMA after it was evaluated?"),
    # Coopération avec L’Organisation Internationale du Travail (l’OIT)
    ("q115", "When was the ILO set up?"),
    ("q118", "Why is the ILO called a 'tripartite' agency - who does it bring together?"),
    ("q119", "How many member states does the ILO have?"),
    ("q121", "When and with which project did the ministry's cooperation with the ILO really start?"),
    ("q123", "When did the IRAM project wrap up?"),
    ("q127", "What does AMEM stand for?"),
    ("q130", "who is funding the AMEM project?"),
    ("q131", "What is AMEM's total budget?"),
    # Coopération avec L’Organisation Internationale pour les Migrations (OIM)
    ("q133", "What year was the IOM founded?"),
    ("q135", "When did the IOM join the United Nations system?"),
    ("q137", "How long has Morocco been a member of the IOM?"),
    ("q139", "When did the IOM open its office in Rabat?"),
    ("q140", "Who chairs the UN Migration Theme Group in Morocco?"),
    ("q142", "How many thematic areas does IOM's work in Morocco revolve around?"),
    ("q151", "Which vulnerable groups does the IOM help in Morocco?"),
    ("q153", "What does AVRR mean?"),
    # Coopération avec l’Union Africaine
    ("q157", "What kind of role does Morocco play on migration across Africa?"),
    ("q159", "What did King Mohammed VI present to the African Union on managing migration?"),
    ("q161", "In the AU's vision, who is supposed to lead Africa?"),
    ("q163", "Which global compact are Morocco and the AU building a common African position on?"),
    ("q164", "What years does the ten-year action plan of the Migration Policy Framework for Africa cover?"),
]

# Not answered by the document (checked by reading it): on-topic facts it
# does not give, then a few off-topic questions.
EN_UNANSWERABLE = [
    "What was the theme of the 12th Global Forum on Migration and Development?",
    "When exactly did the Berlin GFMD meeting take place?",
    "Which Moroccan minister signed the December 2017 financing agreement with the EU?",
    "How many people benefited from the SHARAKA project?",
    "How long is the AMEM project going to last?",
    "How much of the AMEM budget goes to Morocco alone?",
    "How many asylum seekers has the ad hoc commission granted refugee status to so far?",
    "What was the budget of the PISERUMA programme?",
    "Who is the current Director General of the IOM?",
    "Where is the African Migration Observatory based?",
    "When was the Global Compact for Migration adopted in Marrakech?",
    "What migration agreements has Morocco signed with the Arab League?",
    "How many ILO conventions has Morocco ratified?",
    "What's the capital of Australia?",
    "How do I renew my Moroccan passport from abroad?",
    "Can you recommend a good hotel in Marrakech?",
]

# ---------------------------------------------------------------------------
# Arabic (MSA): (source_id, question). Acronyms sometimes in Latin letters.
# ---------------------------------------------------------------------------
AR = [
    # Global Forum Migration et Développement
    ("q001", "ماذا يعني اختصار FMMD؟"),
    ("q003", "متى انعقد الحوار رفيع المستوى للأمم المتحدة الذي انبثق عنه المنتدى العالمي للهجرة والتنمية؟"),
    ("q004", "ما هي الحكومة التي عملت على إطلاق مسار المنتدى العالمي للهجرة والتنمية؟"),
    ("q005", "هل مخرجات المنتدى العالمي للهجرة والتنمية ملزمة قانونياً للدول؟"),
    ("q008", "كم عدد المنظمات الدولية التي تضمها المجموعة العالمية المعنية بالهجرة؟"),
    ("q011", "ما اسم الجلسة الخاصة بالقطاع الخاص داخل المنتدى؟"),
    ("q015", "ممن تتكون ترويكا المنتدى العالمي للهجرة والتنمية؟"),
    ("q018", "أين يجتمع «أصدقاء المنتدى» وكم مرة في السنة؟"),
    ("q020", "أين ومتى انعقدت أول دورة للـ FMMD؟"),
    ("q024", "ما هو الموضوع المحوري لمنتدى مانيلا سنة 2008؟"),
    ("q027", "في أي مدينة انعقد الاجتماع الرابع للمنتدى العالمي للهجرة والتنمية؟"),
    ("q033", "ما هو البلد الذي احتضن الدورة السابعة للمنتدى العالمي للهجرة والتنمية؟"),
    ("q039", "من هما البلدان اللذان نظما الدورة العاشرة للـ GFMD؟"),
    ("q041", "ما هو شعار الدورة الحادية عشرة للمنتدى التي نظمها المغرب وألمانيا؟"),
    # Coopération avec l’Union Européenne
    ("q043", "متى تم توقيع اتفاقية التمويل بين المغرب والاتحاد الأوروبي لدعم السياسات الهجروية؟"),
    ("q044", "كم تبلغ الميزانية المرصودة لبرنامج دعم السياسات الهجروية الموقع مع الاتحاد الأوروبي في دجنبر 2017؟"),
    ("q045", "ما هي مدة برنامج الاتحاد الأوروبي لدعم السياسات الهجروية بالمغرب؟"),
    ("q051", "متى وُقّعت الشراكة من أجل التنقل بين المغرب والاتحاد الأوروبي؟"),
    ("q053", "كم عدد الدول الأعضاء في الاتحاد الأوروبي المشاركة في شراكة التنقل مع المغرب؟"),
    ("q056", "ما هي الوكالة التي تولت تنفيذ مشروع SHARAKA؟"),
    ("q057", "كم كانت ميزانية مشروع «شراكة»؟"),
    ("q060", "لماذا سعى مشروع SHARAKA إلى تعبئة أكبر للمغاربة المقيمين بالخارج؟"),
    ("q068", "متى أطلقت المفوضية الأوروبية الصندوق الائتماني الطارئ من أجل إفريقيا؟"),
    ("q071", "كم يبلغ حجم الصندوق الائتماني الأوروبي الطارئ لفائدة إفريقيا؟"),
    ("q073", "ما هي المناطق الثلاث التي يستهدفها الصندوق الائتماني الطارئ؟"),
    ("q080", "من يتولى تنفيذ مشروع «العيش المشترك دون تمييز»؟"),
    ("q083", "ما هي الدول الشريكة الرئيسية في مشروع التعاون جنوب-جنوب؟"),
    ("q085", "في أي جهات من المملكة يُنفَّذ مشروع إدماج السياسات الهجروية في التنمية المحلية؟"),
    ("q086", "لمن أُسند تنفيذ مشروع التنمية المحلية في الجهات الثلاث؟"),
    ("q088", "من سيتولى تنفيذ برنامج المساعدة الإنسانية الاستعجالية لفائدة المهاجرين في وضعية هشاشة كبيرة؟"),
    # Coopération avec le système des nations Unies au Maroc
    ("q089", "في أي سنة وُقّع اتفاق المقر بين المغرب والمفوضية السامية للأمم المتحدة لشؤون اللاجئين؟"),
    ("q091", "منذ متى توجد اللجنة الخاصة بتسوية وضعية اللاجئين؟"),
    ("q092", "ماذا يعني اختصار BRA في مجال اللجوء بالمغرب؟"),
    ("q094", "من يقرر حالياً منح صفة لاجئ لطالبي اللجوء في المغرب؟"),
    ("q097", "في أي سنة تم اعتماد السياسة الوطنية الجديدة للهجرة واللجوء؟"),
    ("q098", "في أي مجالات يقدم الـ HCR وشركاؤه مساعدة مباشرة للاجئين؟"),
    ("q103", "كم عدد دورات اليوم العالمي للاجئ التي نُظمت بشراكة مع المفوضية حتى الآن؟"),
    ("q106", "ما هو الاسم الكامل لبرنامج PISERUMA؟"),
    ("q108", "متى وُقّعت الاتفاقية الإطار مع الاتحاد العام لمقاولات المغرب حول الإدماج المهني للاجئين؟"),
    ("q111", "كم عدد المشاريع التي يحملها لاجئون واستفادت من برنامج PISERUMA؟"),
    ("q113", "ما هي المؤسسات التي انخرطت في برنامج PISERUMA بعد تقييمه؟"),
    # Coopération avec L’Organisation Internationale du Travail (l’OIT)
    ("q115", "متى تأسست منظمة العمل الدولية؟"),
    ("q118", "لماذا تُوصف منظمة العمل الدولية بأنها وكالة ثلاثية التمثيل؟"),
    ("q119", "كم عدد الدول الأعضاء في الـ OIT؟"),
    ("q121", "متى وبأي مشروع انطلق فعلياً التعاون بين الوزارة المكلفة بالمغاربة المقيمين بالخارج ومنظمة العمل الدولية؟"),
    ("q123", "متى انتهى مشروع IRAM؟"),
    ("q127", "ما معنى اختصار AMEM؟"),
    ("q130", "من يموّل مشروع AMEM؟"),
    ("q131", "كم تبلغ الميزانية الإجمالية لمشروع AMEM؟"),
    # Coopération avec L’Organisation Internationale pour les Migrations (OIM)
    ("q133", "في أي سنة تأسست المنظمة الدولية للهجرة؟"),
    ("q135", "متى أصبحت الـ OIM وكالة مرتبطة بمنظومة الأمم المتحدة؟"),
    ("q137", "منذ متى والمغرب عضو في المنظمة الدولية للهجرة؟"),
    ("q139", "متى فتحت الـ IOM بعثتها في الرباط؟"),
    ("q140", "من يترأس المجموعة الموضوعاتية للهجرة التابعة للأمم المتحدة بالمغرب؟"),
    ("q142", "كم عدد المحاور الموضوعاتية التي تتدخل من خلالها المنظمة الدولية للهجرة في المغرب؟"),
    ("q151", "ما هي الفئات الهشة التي تقدم لها الـ OIM المساعدة في المغرب؟"),
    ("q153", "ماذا يعني برنامج AVRR؟"),
    # Coopération avec l’Union Africaine
    ("q157", "ما هو الدور الذي يضطلع به المغرب على مستوى إفريقيا في مجال الهجرة؟"),
    ("q159", "ماذا قدّم جلالة الملك للاتحاد الإفريقي من أجل تدبير الهجرة؟"),
    ("q161", "حسب رؤية الاتحاد الإفريقي، من يجب أن يقود إفريقيا؟"),
    ("q163", "حول أي ميثاق عالمي ينسق المغرب والاتحاد الإفريقي موقفاً إفريقياً مشتركاً؟"),
    ("q164", "ما هي الفترة التي تغطيها خطة العمل العشرية لسياسة الهجرة في إفريقيا؟"),
]

AR_UNANSWERABLE = [
    "ما هو شعار الدورة الثانية عشرة للمنتدى العالمي للهجرة والتنمية؟",
    "متى انعقد لقاء برلين للمنتدى العالمي للهجرة والتنمية بالضبط؟",
    "أي وزير مغربي وقّع اتفاقية التمويل مع الاتحاد الأوروبي في دجنبر 2017؟",
    "كم عدد المستفيدين من مشروع SHARAKA؟",
    "ما هي مدة مشروع AMEM؟",
    "كم هي حصة المغرب وحده من ميزانية مشروع AMEM؟",
    "كم عدد طالبي اللجوء الذين منحتهم اللجنة الخاصة صفة لاجئ إلى حد الآن؟",
    "كم كانت ميزانية برنامج PISERUMA؟",
    "من هو المدير العام الحالي للمنظمة الدولية للهجرة؟",
    "أين يوجد مقر المرصد الإفريقي للهجرة؟",
    "متى تم اعتماد الميثاق العالمي للهجرة في مراكش؟",
    "ما هي الاتفاقيات التي وقعها المغرب مع جامعة الدول العربية في مجال الهجرة؟",
    "كم عدد اتفاقيات منظمة العمل الدولية التي صادق عليها المغرب؟",
    "ما هي عاصمة أستراليا؟",
    "كيف أجدد جواز السفر المغربي وأنا مقيم بالخارج؟",
    "من فاز بكأس العالم لكرة القدم سنة 2022؟",
]

# ---------------------------------------------------------------------------
# French follow-ups. The last question only makes sense after the history.
# fu(history, question, src=…) copies section/answer/evidence of a French
# item; answer=… narrows the answer (must stay inside the evidence);
# section=… + answer=… + evidence=… give a new evidence span.
# ---------------------------------------------------------------------------


def fu(history, question, src=None, answer=None, section=None, evidence=None):
    return {"history": history, "question": question, "src": src,
            "answer": answer, "section": section, "evidence": evidence}


FOLLOWUPS = [
    # ---- Global Forum Migration et Développement
    fu(["Où s'est tenue la troisième réunion du FMMD ?"],
       "Et la quatrième ?", src="q027"),
    fu(["Quel pays a organisé la 8e édition du Forum mondial sur la migration et le développement ?"],
       "Quel était son thème ?", src="q036"),
    fu(["C'est quoi le FMMD ?"],
       "Et qui a proposé sa création ?", src="q002"),
    fu(["Que veut dire le sigle FMMD ?",
        "À l'initiative de qui le Forum mondial sur la migration et le développement est-il né ?"],
       "Et quel gouvernement a ensuite lancé son processus ?", src="q004"),
    fu(["Comment est structuré le Forum mondial sur la migration et le développement ?",
        "Qui compose la Troïka du FMMD ?"],
       "Et elle sert à quoi ?", src="q016"),
    fu(["Quel est le mandat des Friends of the Forum du FMMD ?"],
       "Ils se réunissent à quelle fréquence ?", src="q018",
       answer="au moins deux fois par an"),
    fu(["Où se réunissent les amis du forum du FMMD ?"],
       "Et qui paie le déplacement et l'hébergement des représentants ?", src="q019"),
    fu(["Où et quand a eu lieu le premier FMMD ?"],
       "Quel était son objectif principal ?", src="q021"),
    fu(["Quel pays a organisé le premier FMMD ?",
        "Quel était l'objectif principal de la réunion de Bruxelles en 2007 ?"],
       "Et la deuxième question principale ?", src="q022"),
    fu(["Quel était le thème central du FMMD de Manille ?"],
       "Et celui d'Athènes ?", src="q026"),
    fu(["Dans quelle ville a eu lieu la troisième réunion du Forum mondial ?"],
       "C'était à quelles dates ?", src="q025"),
    fu(["Dans quel pays s'est déroulée la 5e édition du FMMD ?"],
       "Et en 2012 ?", src="q031"),
    fu(["Quel pays a accueilli le FMMD en 2016 ?",
        "Qui a organisé la 10ème édition du forum mondial ?"],
       "Et la 11e, c'était sous quel thème ?", src="q041"),
    fu(["Quel pays a accueilli la 7e édition du FMMD ?"],
       "Elle a eu lieu quand ?", section=G, answer="mai 2014",
       evidence="La 7ème édition du Forum Mondial pour la Migration et le Développement/ Suède, 124-16 mai 2014"),
    fu(["Comment s'appelle la session du FMMD dédiée au secteur privé ?"],
       "Depuis quand elle existe ?", src="q012"),
    fu(["Qui exerce la présidence du Forum mondial sur la migration et le développement ?"],
       "Et par qui est-elle aidée ?", src="q014"),
    # ---- Coopération avec l’Union Européenne
    fu(["Quand a été signée la convention de financement UE-Maroc pour l'appui aux politiques migratoires ?"],
       "Quel est son budget ?", src="q044"),
    fu(["Combien l'Union européenne a-t-elle mis dans le programme d'appui aux politiques migratoires signé en 2017 ?"],
       "Pour combien de temps ?", src="q045"),
    fu(["Quelles sont les composantes du programme UE d'appui aux politiques migratoires du Maroc ?"],
       "Et la quatrième ?", src="q050"),
    fu(["Quand le partenariat pour la mobilité UE-Maroc a-t-il été signé ?"],
       "Qui l'a signé côté marocain ?", src="q052"),
    fu(["Combien d'Etats membres de l'UE participent au partenariat pour la mobilité avec le Maroc ?"],
       "Lesquels ?", src="q054"),
    fu(["Quand le partenariat pour la mobilité UE-Maroc a-t-il été signé ?",
        "Quel projet est considéré comme le fruit du partenariat pour la mobilité UE-Maroc ?"],
       "Combien ça a coûté ?", src="q057"),
    fu(["Quel était le budget du projet SHARAKA ?"],
       "Et sa durée ?", src="q058"),
    fu(["Quelle était la mission du projet SHARAKA ?",
        "Combien de temps a duré le projet SHARAKA ?"],
       "Qui l'a mis en œuvre ?", src="q056"),
    fu(["Quelles sont les principales composantes du projet SHARAKA ?"],
       "Celle sur la migration de travail vise l'intégration de quels immigrés ?", src="q064"),
    fu(["Quand la Commission européenne a-t-elle lancé le fonds fiduciaire d'urgence pour l'Afrique ?"],
       "Il est doté de combien ?", src="q071"),
    fu(["De combien est doté le fonds fiduciaire d'urgence de l'UE pour l'Afrique ?"],
       "Il cible quelles régions ?", src="q073"),
    fu(["Qui met en œuvre le projet d'intégration des politiques migratoires dans le développement local au Maroc ?"],
       "Dans quelles régions ?", src="q085"),
    fu(["Qui exécute le projet Vivre Ensemble sans discrimination ?"],
       "Et le projet Coopération Sud-Sud ?", src="q084"),
    fu(["Qui exécute le projet Coopération Sud-Sud financé par le fonds fiduciaire ?"],
       "Avec quels pays partenaires ?", src="q083"),
    fu(["Quelles initiatives le fonds fiduciaire d'urgence a-t-il permis de lancer au Maroc ?"],
       "Et la dernière, elle cible qui en priorité ?", src="q087"),
    fu(["Quel projet du fonds fiduciaire vise à prévenir le racisme et la xénophobie ?"],
       "Qui l'exécute ?", src="q080"),
    fu(["Quel est l'objectif du projet « Empotement juridique des migrants » ?"],
       "Par qui sera-t-il mis en œuvre ?", src="q081"),
    fu(["Lors de quel sommet la Commission européenne a-t-elle lancé le fonds fiduciaire d'urgence ?"],
       "C'était quand ?", src="q068"),
    # ---- Coopération avec le système des nations Unies au Maroc
    fu(["Que signifie BRA ?"],
       "Il a été rouvert auprès de quel ministère ?", src="q093"),
    fu(["Depuis quand existe la commission ad hoc de régularisation des réfugiés ?"],
       "Et qu'est-ce qu'elle décide ?", src="q094",
       answer="la délivrance du statut de réfugié aux demandeurs d’asile"),
    fu(["Que signifie le sigle PISERUMA ?"],
       "Qui le met en œuvre ?", src="q107"),
    fu(["Que signifie le sigle PISERUMA ?",
        "Depuis quand le HCR a-t-il mis en place le programme PISERUMA ?"],
       "Combien de projets en ont bénéficié ?", src="q111"),
    fu(["En quelle année le programme PISERUMA a-t-il été évalué ?"],
       "Quels acteurs institutionnels l'ont rejoint ensuite ?", src="q113"),
    fu(["Quelle agence appuie le partenariat germano-marocain pour l'asile et la protection des réfugiés ?"],
       "Combien d'éditions de la journée mondiale du réfugié ce projet a-t-il permis d'organiser avec le HCR ?",
       src="q103"),
    fu(["Combien d'éditions de la journée mondiale du réfugié ont été organisées avec le HCR ?"],
       "Avec quel genre d'événements ?", src="q100"),
    fu(["Quand a été signée la convention cadre avec le MDCMREAM et la CGEM ?"],
       "Dans quel but ?", src="q108",
       answer="faciliter l’insertion socioprofessionnelle des réfugiés au Maroc"),
    fu(["Qui a organisé les ateliers de renforcement de capacités dans le domaine de l'asile ?"],
       "Et à qui étaient-ils destinés ?", src="q104"),
    fu(["Quand la nouvelle politique nationale d'immigration et d'asile a-t-elle été adoptée ?"],
       "Dans le cadre de cette politique, les réfugiés ont accès à quels services ?", src="q096"),
    # ---- Coopération avec L’Organisation Internationale du Travail (l’OIT)
    fu(["Quelle est la vocation de l'OIT ?",
        "Quand l'OIT a-t-elle été fondée ?"],
       "Elle compte combien d'Etats membres ?", src="q119"),
    fu(["En quelle année l'Organisation internationale du travail a-t-elle été créée ?"],
       "Sous l'égide de quoi ?", src="q116"),
    fu(["Avec quel projet la coopération entre le ministère des MRE et l'OIT a-t-elle commencé ?"],
       "Il portait sur quoi ?", src="q122"),
    fu(["Sur quoi portait le projet IRAM ?"],
       "Il a pris fin quand ?", src="q123"),
    fu(["Que signifie AMEM ?"],
       "Qui le finance ?", src="q130"),
    fu(["Qui finance le projet AMEM ?"],
       "Et le budget ?", src="q131"),
    fu(["Quand a été lancé le projet AMEM ?",
        "Qui finance le projet AMEM ?"],
       "Et sur quoi s'appuie-t-il ?", src="q132"),
    fu(["Quand le projet AMEM a-t-il été lancé ?"],
       "Quelles délégations ont assisté à son lancement ?", src="q129"),
    fu(["Quel projet de coopération avec l'OIT a pris fin en 2017 ?"],
       "Quel dispositif de veille a-t-il proposé de mettre en place au ministère ?", src="q125"),
    # ---- Coopération avec L’Organisation Internationale pour les Migrations (OIM)
    fu(["En quelle année l'accord de siège entre le Maroc et le HCR a-t-il été signé ?"],
       "Et celui avec l'OIM, il est entré en vigueur quand ?", src="q138"),
    fu(["En quelle année l'OIM a-t-elle été fondée ?"],
       "Et depuis quand le Maroc en est membre ?", src="q137"),
    fu(["Depuis quand le Maroc est-il membre de l'OIM ?"],
       "Et elle a ouvert sa mission à Rabat quand ?", src="q139"),
    fu(["Quand l'OIM est-elle devenue une agence rattachée au système des Nations Unies ?"],
       "À l'occasion de quel sommet ?", src="q136"),
    fu(["Combien d'axes thématiques structurent l'intervention de l'OIM au Maroc ?"],
       "Quel est le deuxième ?", section=M, answer="Protection et résilience",
       evidence="2. Protection et résilience"),
    fu(["Combien d'axes thématiques structurent l'intervention de l'OIM au Maroc ?",
        "Quel est le premier axe d'intervention de l'OIM au Maroc ?"],
       "Et le troisième ?", section=M, answer="Appui à la jeunesse",
       evidence="3. Appui à la jeunesse"),
    fu(["Que signifie AVRR ?"],
       "C'est un programme de quelle organisation ?", section=M, answer="L’OIM",
       evidence="L’OIM, en partenariat avec les parties nationales, offre également aux migrants désirant retourner volontairement dans leur pays d’origine"),
    fu(["Quel public vise l'axe « Appui à la jeunesse » de l'OIM ?"],
       "Et autour de quoi s'articulent ses programmes ?", src="q156"),
    fu(["Quels groupes vulnérables l'OIM assiste-t-elle au Maroc ?"],
       "Avec quel type d'assistance ?", src="q152"),
    # ---- Coopération avec l’Union Africaine
    fu(["Quel rôle joue le Maroc en Afrique en matière de migration ?"],
       "Dans quelle vision ce rôle s'inscrit-il ?", src="q158"),
    fu(["Qu'est-ce que le Roi a présenté à l'Union africaine sur la migration ?"],
       "Elle porte sur quoi exactement ?", src="q159",
       answer="la gestion de la migration en Afrique"),
    fu(["Quels sont les principaux axes de coordination avec l'UA en matière de migration ?"],
       "Le troisième porte sur quelle période ?", src="q164"),
    fu(["Quel rôle joue le Maroc en Afrique en matière de migration ?",
        "Quels sont les principaux axes de coordination du Maroc avec l'Union africaine ?"],
       "Et le dernier ?", src="q165"),
    fu(["Quelle est la vision de l'Union africaine à laquelle se conforme l'action du Maroc ?"],
       "Par qui doit-elle être dirigée ?", src="q161"),
]

# ---------------------------------------------------------------------------
# French standalone questions after an unrelated history. History entries are
# (section, question) so the check can verify they are on other sections; the
# last question is the French item src, copied exactly (with its source_id).
# ---------------------------------------------------------------------------


def st(history, src):
    return {"history": history, "src": src}


STANDALONE = [
    st([(N, "En quelle année l'accord de siège entre le Maroc et le HCR a-t-il été signé ?")], "q138"),
    st([(E, "Quel était le budget du projet SHARAKA ?"), (E, "Et sa durée ?")], "q131"),
    st([(T, "Qui finance le projet AMEM ?")], "q084"),
    st([(G, "Où s'est tenu le premier FMMD ?"), (G, "Quel était son objectif principal ?")], "q133"),
    st([(T, "En quelle année l'OIT a-t-elle été fondée ?")], "q137"),
    st([(M, "Que signifie AVRR ?")], "q106"),
    st([(E, "Quelles sont les trois régions ciblées par le fonds fiduciaire d'urgence ?")], "q164"),
    st([(A, "Quel rôle joue le Maroc en Afrique en matière de migration ?")], "q029"),
    st([(N, "Combien de projets de réfugiés ont été soutenus par le PISERUMA ?")], "q053"),
    st([(G, "Qui exerce la présidence du FMMD ?"), (G, "Par qui est-elle assistée ?")], "q140"),
    st([(T, "Combien d'Etats membres compte l'OIT ?")], "q008"),
    st([(E, "Quand a été signée la convention de financement UE-Maroc sur les politiques migratoires ?")], "q108"),
    st([(N, "Qui met en œuvre le PISERUMA ?")], "q086"),
    st([(T, "Sur quoi portait le projet IRAM ?")], "q160"),
    st([(M, "Quels groupes vulnérables l'OIM assiste-t-elle au Maroc ?")], "q087"),
    st([(T, "Quand le projet AMEM a-t-il été lancé ?")], "q068"),
    st([(N, "Quelle agence appuie le partenariat germano-marocain pour l'asile ?")], "q039"),
    st([(A, "Quels sont les principaux axes de coordination avec l'Union africaine ?")], "q142"),
    st([(N, "Que signifie BRA ?"), (N, "Auprès de quel ministère a-t-il été rouvert ?")], "q127"),
    st([(E, "Qui exécute le projet Vivre Ensemble sans discrimination ?")], "q101"),
    st([(G, "Comment s'appelle la session du forum réservée au secteur privé ?")], "q118"),
    st([(T, "Quel est le budget global du projet AMEM ?")], "q071"),
    st([(M, "Depuis quand le Maroc est-il membre de l'OIM ?")], "q097"),
    st([(G, "Quel thème la présidence grecque a-t-elle retenu en 2009 ?"), (G, "Et le Mexique en 2010 ?")], "q163"),
    st([(E, "Quelles sont les composantes du programme UE d'appui aux politiques migratoires ?")], "q153"),
    st([(M, "Qui préside le Groupe Thématique Migration des Nations Unies au Maroc ?")], "q123"),
    st([(N, "Combien d'éditions de la journée mondiale du réfugié ont été organisées avec le HCR ?")], "q020"),
    st([(T, "Qui finance le projet AMEM ?"), (T, "Et quels pays sont concernés ?")], "q158"),
]


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------


def src_fields(sid):
    sec, _q, ans, ev = SRC[sid]
    return {"answer": ans, "evidence": ev, "doc": DOC_NAME, "section": sec}


def build_lang(lang, items, unanswerable):
    recs = []
    for i, (sid, q) in enumerate(items, 1):
        rec = {"id": f"{lang}-q{i:03d}", "source_id": sid, "question": q}
        rec.update(src_fields(sid))
        rec.update({"answerable": True, "language": lang})
        recs.append(rec)
    for i, q in enumerate(unanswerable, 1):
        recs.append({"id": f"{lang}-u{i:03d}", "question": q,
                     "answerable": False, "language": lang})
    return recs


def build_conversations():
    recs = []
    for i, it in enumerate(FOLLOWUPS, 1):
        if it["src"]:
            f = src_fields(it["src"])
        else:
            f = {"answer": it["answer"], "evidence": it["evidence"],
                 "doc": DOC_NAME, "section": it["section"]}
        if it["answer"]:
            f["answer"] = it["answer"]
        rec = {"id": f"c{i:03d}", "kind": "followup", "history": list(it["history"]),
               "question": it["question"]}
        rec.update(f)
        rec["answerable"] = True
        recs.append(rec)
    for i, it in enumerate(STANDALONE, 1):
        sid = it["src"]
        rec = {"id": f"s{i:03d}", "kind": "standalone",
               "history": [q for _sec, q in it["history"]],
               "question": SRC[sid][1], "source_id": sid}
        rec.update(src_fields(sid))
        rec["answerable"] = True
        recs.append(rec)
    return recs


def write_jsonl(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for rec in recs:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------
# Check
# ---------------------------------------------------------------------------


ARABIC = re.compile(r"[\u0600-\u06FF]")
LANG_KEYS = {"id", "source_id", "question", "answer", "evidence", "doc", "section",
             "answerable", "language"}
LANG_UNANS_KEYS = {"id", "question", "answerable", "language"}
FOLLOWUP_KEYS = {"id", "kind", "history", "question", "answer", "evidence", "doc",
                 "section", "answerable"}
STANDALONE_KEYS = FOLLOWUP_KEYS | {"source_id"}


def check_answer_fields(rec, where, text, spans, errors):
    ev, ans, sec = rec.get("evidence"), rec.get("answer"), rec.get("section")
    if rec.get("doc") != DOC_NAME:
        errors.append(f"{where}: doc is {rec.get('doc')!r}")
    if not isinstance(ev, str) or not isinstance(ans, str) or not ev or not ans:
        errors.append(f"{where}: empty evidence or answer")
        return
    if ans not in ev:
        errors.append(f"{where}: answer not a substring of evidence")
    if len(ans) > 160:
        print(f"WARNING: {where}: long answer ({len(ans)} chars)")
    occ = occurrences(text, ev)
    if len(occ) != 1:
        errors.append(f"{where}: evidence occurs {len(occ)} times in document (want 1)")
    if sec not in spans:
        errors.append(f"{where}: unknown section {sec!r}")
    elif occ:
        s, e = spans[sec]
        if not any(s <= o and o + len(ev) <= e for o in occ):
            errors.append(f"{where}: evidence not inside section {sec!r}")


def read_jsonl(path, errors):
    recs = []
    with open(path, encoding="utf-8") as f:
        raw = f.read().split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    for ln, line in enumerate(raw, 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{os.path.basename(path)} line {ln}: invalid JSON ({e})")
            continue
        if not isinstance(rec, dict):
            errors.append(f"{os.path.basename(path)} line {ln}: not a JSON object")
            continue
        recs.append(rec)
    return recs


def check_source_snapshot(errors):
    """SRC must match the current French set (same id -> same fields)."""
    if not os.path.exists(FR_JSONL):
        errors.append(f"{FR_JSONL} not found: cannot check source_ids")
        return
    fr = {}
    with open(FR_JSONL, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                fr[r["id"]] = r
    for sid, (sec, q, ans, ev) in sorted(SRC.items()):
        r = fr.get(sid)
        if r is None or not r.get("answerable"):
            errors.append(f"source {sid}: not an answerable item of coopqa-fr.jsonl")
            continue
        for key, val in (("section", sec), ("question", q), ("answer", ans), ("evidence", ev)):
            if r.get(key) != val:
                errors.append(f"source {sid}: {key} differs from coopqa-fr.jsonl "
                              f"(snapshot {val!r} vs {r.get(key)!r})")


def check_lang_file(path, lang, text, spans, errors):
    name = os.path.basename(path)
    recs = read_jsonl(path, errors)
    ids, qs, sids = set(), collections.Counter(), collections.Counter()
    per_section = collections.Counter()
    n_ans = n_un = 0
    for rec in recs:
        rid = rec.get("id")
        where = f"{name} {rid}"
        if not isinstance(rid, str) or not rid:
            errors.append(f"{where}: missing id")
        elif rid in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(rid)
        q = rec.get("question")
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: empty question")
            q = ""
        qs[q.strip().lower()] += 1
        if rec.get("language") != lang:
            errors.append(f"{where}: language is {rec.get('language')!r}")
        if lang == "ar" and not ARABIC.search(q):
            errors.append(f"{where}: Arabic question has no Arabic letters")
        if lang == "en" and ARABIC.search(q):
            errors.append(f"{where}: English question has Arabic letters")
        if rec.get("answerable") is True:
            n_ans += 1
            if set(rec) != LANG_KEYS:
                errors.append(f"{where}: keys {sorted(rec)} != {sorted(LANG_KEYS)}")
            if not str(rid).startswith(f"{lang}-q"):
                errors.append(f"{where}: answerable id should start with '{lang}-q'")
            sid = rec.get("source_id")
            sids[sid] += 1
            if sid not in SRC:
                errors.append(f"{where}: source_id {sid!r} not in snapshot")
            else:
                for key, val in src_fields(sid).items():
                    if rec.get(key) != val:
                        errors.append(f"{where}: {key} not copied from {sid}")
            check_answer_fields(rec, where, text, spans, errors)
            per_section[rec.get("section")] += 1
        elif rec.get("answerable") is False:
            n_un += 1
            if set(rec) != LANG_UNANS_KEYS:
                errors.append(f"{where}: keys {sorted(rec)} != {sorted(LANG_UNANS_KEYS)}")
            if not str(rid).startswith(f"{lang}-u"):
                errors.append(f"{where}: unanswerable id should start with '{lang}-u'")
        else:
            errors.append(f"{where}: 'answerable' must be true or false")
    for q, n in qs.items():
        if n > 1:
            errors.append(f"{name}: duplicate question ({n}x): {q!r}")
    for sid, n in sids.items():
        if n > 1:
            errors.append(f"{name}: source_id {sid} used {n} times")
    if n_ans < MIN_ANSWERABLE:
        errors.append(f"{name}: {n_ans} answerable < {MIN_ANSWERABLE}")
    if n_un < MIN_UNANSWERABLE:
        errors.append(f"{name}: {n_un} unanswerable < {MIN_UNANSWERABLE}")
    missing = [h for h in HEADINGS[:-1] if not per_section[h]]
    if missing:
        errors.append(f"{name}: no question for sections {missing}")
    return per_section, n_ans, n_un


def check_conversations(path, text, spans, errors):
    name = os.path.basename(path)
    recs = read_jsonl(path, errors)
    fr_questions = {v[1].strip().lower() for v in SRC.values()}
    if os.path.exists(FR_JSONL):
        with open(FR_JSONL, encoding="utf-8") as f:
            fr_questions |= {json.loads(x)["question"].strip().lower() for x in f if x.strip()}
    ids = set()
    per_kind = {"followup": collections.Counter(), "standalone": collections.Counter()}
    turns = collections.Counter()
    seen = collections.Counter()
    for rec in recs:
        rid = rec.get("id")
        where = f"{name} {rid}"
        if not isinstance(rid, str) or not rid:
            errors.append(f"{where}: missing id")
        elif rid in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(rid)
        kind = rec.get("kind")
        if kind not in per_kind:
            errors.append(f"{where}: kind {kind!r}")
            continue
        keys = FOLLOWUP_KEYS if kind == "followup" else STANDALONE_KEYS
        if set(rec) != keys and not (kind == "standalone" and set(rec) == FOLLOWUP_KEYS):
            errors.append(f"{where}: keys {sorted(rec)} != {sorted(keys)}")
        prefix = "c" if kind == "followup" else "s"
        if not str(rid).startswith(prefix):
            errors.append(f"{where}: {kind} id should start with {prefix!r}")
        if rec.get("answerable") is not True:
            errors.append(f"{where}: answerable must be true")
        hist = rec.get("history")
        if (not isinstance(hist, list) or not 1 <= len(hist) <= 2
                or not all(isinstance(h, str) and h.strip() for h in hist)):
            errors.append(f"{where}: history must be 1 or 2 non-empty strings")
            hist = []
        turns[len(hist) + 1] += 1
        q = rec.get("question")
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: empty question")
            q = ""
        if q in hist:
            errors.append(f"{where}: question repeated in its history")
        seen[(tuple(hist), q)] += 1
        if kind == "followup" and q.strip().lower() in fr_questions:
            errors.append(f"{where}: follow-up question is a French standalone question")
        if kind == "standalone" and "source_id" in rec:
            sid = rec["source_id"]
            if sid not in SRC:
                errors.append(f"{where}: source_id {sid!r} not in snapshot")
            elif q != SRC[sid][1] or any(rec.get(k) != v for k, v in src_fields(sid).items()):
                errors.append(f"{where}: fields not copied exactly from {sid}")
        check_answer_fields(rec, where, text, spans, errors)
        per_kind[kind][rec.get("section")] += 1
    for key, n in seen.items():
        if n > 1:
            errors.append(f"{name}: duplicate conversation ({n}x): {key[1]!r}")
    # Standalone: every history turn is on another section than the last question.
    for i, it in enumerate(STANDALONE, 1):
        last = SRC[it["src"]][0]
        for sec, hq in it["history"]:
            if sec == last:
                errors.append(f"{name} s{i:03d}: history turn {hq!r} is on the same section")
            if sec not in HEADINGS:
                errors.append(f"{name} s{i:03d}: unknown history section {sec!r}")
    nf, ns = sum(per_kind["followup"].values()), sum(per_kind["standalone"].values())
    if nf < MIN_FOLLOWUP:
        errors.append(f"{name}: {nf} follow-ups < {MIN_FOLLOWUP}")
    if ns < MIN_STANDALONE:
        errors.append(f"{name}: {ns} standalone < {MIN_STANDALONE}")
    for kind, c in per_kind.items():
        missing = [h for h in HEADINGS[:-1] if not c[h]]
        if missing:
            errors.append(f"{name}: no {kind} question for sections {missing}")
    return per_kind, turns


def main():
    with open(DOC_PATH, encoding="utf-8") as f:
        text = f.read()
    spans = section_spans(text)

    write_jsonl(OUT_EN, build_lang("en", EN, EN_UNANSWERABLE))
    write_jsonl(OUT_AR, build_lang("ar", AR, AR_UNANSWERABLE))
    write_jsonl(OUT_CONV, build_conversations())

    errors = []
    check_source_snapshot(errors)
    for path, lang in ((OUT_EN, "en"), (OUT_AR, "ar")):
        per_section, n_ans, n_un = check_lang_file(path, lang, text, spans, errors)
        print(f"{os.path.basename(path)}: {n_ans} answerable, {n_un} unanswerable")
        for h in HEADINGS[:-1]:
            print(f"  {per_section[h]:4d}  {h}")
    per_kind, turns = check_conversations(OUT_CONV, text, spans, errors)
    print(f"{os.path.basename(OUT_CONV)}: "
          + ", ".join(f"{sum(c.values())} {k}" for k, c in per_kind.items())
          + "; turns " + ", ".join(f"{n}-turn: {turns[n]}" for n in sorted(turns)))
    print("        followup  standalone")
    for h in HEADINGS[:-1]:
        print(f"  {per_kind['followup'][h]:8d}  {per_kind['standalone'][h]:10d}  {h}")
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"FAILED: {len(errors)} error(s)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
