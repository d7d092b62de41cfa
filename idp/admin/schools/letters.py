"""Notification letters: one A4 page per person (PDF); the same data as CSV is in
``idp.admin.schools.letters_csv``.

The page says, in French: the school, who it is for, the identifier and temporary password,
until when the letter is valid, how to activate the account and where to get help. Letters are
drawn straight on a ReportLab canvas with the PDF standard Helvetica (nothing embedded): a
school's 2,000 letters take a second or two and weigh little. Characters that Helvetica's
encoding lacks (rare in names: ``ễ``, ``ł``…) are written without their accent.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from idp.i18n import _
from idp.settings import Settings

# Plain binary streams: ASCII85 (the default) only makes the file bigger and slower to write.
rl_config.useA85 = 0

BLUE = (0, 0, 145 / 255)
GREY = (0.4, 0.4, 0.4)
WIDTH, HEIGHT = A4
LEFT = 22 * mm
RIGHT = WIDTH - 22 * mm


@dataclass
class Letter:
    school_uai: str
    school_name: str
    kind: str  # pupil | guardian
    given_name: str
    family_name: str
    username: str
    password: str
    valid_until: date
    class_name: str | None = None
    #: For a guardian: the children of the school the letter comes from ("Léa Martin (5A)").
    children: list[str] = field(default_factory=list)


#: Letters that do not decompose into a base letter and an accent.
_NO_DECOMPOSITION = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"}
)


def _latin(text: str) -> str:
    """Helvetica's encoding (WinAnsi, about cp1252): fold what it cannot show."""
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text.translate(_NO_DECOMPOSITION):
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("cp1252", "ignore").decode("cp1252")
            out.append(base or "?")
    return "".join(out)


def _date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


class _Writer:
    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.y = HEIGHT

    def text(
        self,
        value: str,
        size: float = 10.5,
        bold: bool = False,
        colour=(0, 0, 0),
        x: float = LEFT,
        gap: float = 1.45,
        font: str | None = None,
    ) -> None:
        self.c.setFont(font or ("Helvetica-Bold" if bold else "Helvetica"), size)
        self.c.setFillColorRGB(*colour)
        self.c.drawString(x, self.y, _latin(value))
        self.y -= size * gap

    def paragraph(
        self, value: str, size: float = 10.5, x: float = LEFT, bold: bool = False
    ) -> None:
        """Wrapped at the right margin (word by word: the texts are short)."""
        font = "Helvetica-Bold" if bold else "Helvetica"
        words, line = _latin(value).split(), ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if self.c.stringWidth(candidate, font, size) > RIGHT - x and line:
                self.text(line, size, bold, x=x)
                line = word
            else:
                line = candidate
        if line:
            self.text(line, size, bold, x=x)

    def space(self, points: float) -> None:
        self.y -= points


def _help_text(settings: Settings) -> str:
    name = settings.academy_name
    # "Académie de Dijon" reads "l'académie de Dijon" within the sentence.
    academy = name[0].lower() + name[1:] if name.startswith(_("Académie")) else name
    return _(
        "Adressez-vous d'abord à l'école ou à l'établissement. Vous pouvez aussi contacter "
        "l'assistance de l'%(academy)s au %(phone)s (%(hours)s) ou par le formulaire "
        "%(issuer)s/assistance."
    ) % {
        "academy": academy,
        "phone": settings.assistance_phone,
        "hours": settings.assistance_hours,
        "issuer": settings.issuer_url,
    }


def _steps(settings: Settings, kind: str) -> list[str]:
    steps = [
        _("Rendez-vous sur %(issuer)s et choisissez « Se connecter avec son compte ÉduConnect ».")
        % {"issuer": settings.issuer_url},
        _("Saisissez l'identifiant et le mot de passe provisoire ci-dessus."),
    ]
    if kind == "guardian":
        steps.append(_("Confirmez la date de naissance de chacun de vos enfants."))
    return [
        *steps,
        _("Choisissez votre propre mot de passe, que vous seul connaîtrez."),
        _("Indiquez votre adresse électronique, puis confirmez-la avec le lien reçu par courriel."),
    ]


#: Where the per-person texts go (from the top of the page).
RECIPIENT_Y = HEIGHT - 62 * mm
TITLE_Y = HEIGHT - 86 * mm
BOX_HEIGHT = 34 * mm


def _static(
    w: _Writer, school: tuple[str, str], kind: str, settings: Settings, issued_on: date
) -> float:
    """What every letter of a school and kind shares, drawn once as a PDF form; returns the
    top of the credentials box."""
    c = w.c
    uai, name = school
    w.y = HEIGHT - 20 * mm
    w.text(_("RÉPUBLIQUE"), 9, True, gap=1.2)
    w.text(_("FRANÇAISE"), 9, True, gap=1.2)
    w.space(2)
    w.text(settings.academy_name, 9, colour=GREY, gap=1.3)
    w.text(f"{name} ({uai})", 9, colour=GREY, gap=1.3)
    c.setFont("Helvetica", 9)
    c.setFillColorRGB(*GREY)
    c.drawRightString(
        RIGHT, HEIGHT - 20 * mm, _latin(_("Le %(date)s") % {"date": _date(issued_on)})
    )
    w.y = TITLE_Y
    w.text(_("Votre compte ÉduConnect"), 17, True, BLUE, gap=1.6)
    w.paragraph(
        _(
            "ÉduConnect est le compte unique qui donne accès aux services numériques de l'école "
            "et de l'établissement (livret scolaire, téléservices, espace numérique de travail). "
            "Voici vos identifiants personnels. Gardez ce courrier en lieu sûr."
        )
    )
    w.space(8)
    box_top = w.y + 12
    c.setStrokeColorRGB(*BLUE)
    c.setLineWidth(1.2)
    c.rect(LEFT, box_top - BOX_HEIGHT, RIGHT - LEFT, BOX_HEIGHT, stroke=1, fill=0)
    w.y = box_top - 10 * mm
    w.text(_("Identifiant :"), 11, x=LEFT + 6 * mm, gap=2.0 * 14 / 11)
    w.text(_("Mot de passe provisoire :"), 11, x=LEFT + 6 * mm)
    w.y = box_top - BOX_HEIGHT - 10 * mm
    w.text(_("Comment activer votre compte"), 12.5, True, BLUE, gap=1.7)
    for number, step in enumerate(_steps(settings, kind), 1):
        w.text(f"{number}.", 10.5, True, gap=0)
        w.paragraph(step, x=LEFT + 6 * mm)
    w.space(4)
    w.paragraph(
        _(
            "Passé la date de validité indiquée ci-dessus, ce mot de passe provisoire ne "
            "fonctionne plus : demandez alors de nouveaux identifiants à l'école ou à "
            "l'établissement."
        ),
        10,
    )
    w.space(10)
    w.text(_("Besoin d'aide ?"), 12.5, True, BLUE, gap=1.7)
    w.paragraph(_help_text(settings), 10)
    w.space(6)
    w.paragraph(
        _(
            "Ne communiquez jamais votre mot de passe : personne, ni l'école ni l'assistance, ne "
            "vous le demandera."
        ),
        9.5,
        bold=True,
    )
    return box_top


def _person(w: _Writer, letter: Letter, box_top: float) -> None:
    w.y = RECIPIENT_Y
    who = f"{letter.given_name} {letter.family_name}"
    if letter.kind == "guardian":
        w.text(_("À l'attention de %(who)s") % {"who": who}, 11, True)
        if letter.children:
            children = ", ".join(letter.children[:6])
            w.paragraph(_("Représentant légal de : %(children)s") % {"children": children}, 10)
    elif letter.class_name:
        values = {"who": who, "class_name": letter.class_name}
        w.text(_("À l'attention de %(who)s, classe %(class_name)s") % values, 11, True)
    else:
        w.text(_("À l'attention de %(who)s") % {"who": who}, 11, True)
    w.y = box_top - 10 * mm
    # A fixed-width face keeps look-alike characters apart when typed from paper.
    w.text(letter.username, 14, x=LEFT + 60 * mm, gap=2.0, font="Courier-Bold")
    w.text(letter.password, 14, x=LEFT + 60 * mm, gap=2.0, font="Courier-Bold")
    until = _("Courrier valable jusqu'au %(date)s inclus.") % {"date": _date(letter.valid_until)}
    w.text(until, 10, True, x=LEFT + 6 * mm)
    school = f"{letter.school_name} ({letter.school_uai})"
    name = f"{letter.family_name} {letter.given_name}"
    footer = _("ÉduConnect — %(school)s — %(name)s") % {"school": school, "name": name}
    w.c.setFont("Helvetica", 8)
    w.c.setFillColorRGB(*GREY)
    w.c.drawString(LEFT, 14 * mm, _latin(footer))


def render_pdf(
    letters: Iterable[Letter], settings: Settings, issued_on: date | None = None
) -> bytes:
    """One page per letter, in the order given."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName="Helvetica")
    canvas.setTitle(_("Courriers de notification ÉduConnect"))
    canvas.setAuthor(settings.academy_name)
    writer = _Writer(canvas)
    issued_on = issued_on or date.today()
    forms: dict[tuple[str, str, str], tuple[str, float]] = {}
    count = 0
    for letter in letters:
        key = (letter.school_uai, letter.school_name, letter.kind)
        if key not in forms:
            name = f"f{len(forms)}"
            canvas.beginForm(name)
            box_top = _static(writer, key[:2], letter.kind, settings, issued_on)
            canvas.endForm()
            forms[key] = (name, box_top)
        name, box_top = forms[key]
        canvas.doForm(name)
        _person(writer, letter, box_top)
        canvas.showPage()
        count += 1
    if count == 0:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def filename(school_uai: str, at: datetime, extension: str) -> str:
    return f"educonnect-courriers-{school_uai}-{at:%Y%m%d-%H%M}.{extension}"
