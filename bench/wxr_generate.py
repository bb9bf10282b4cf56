#!/usr/bin/env python3
"""bench/wxr_generate.py - a synthetic WordPress export (WXR 1.2) at newsroom scale.

    python3 bench/wxr_generate.py --posts 100000 --comments 10 --words 400 \
        --out /tmp/big.xml [--seed N]

Writes what WordPress 6's "Tools -> Export -> All content" writes (same element
order, CDATA use and namespaces as crates/khabar/tests/fixtures/wordpress/
newsroom.xml), for a fictional Arabic city newsroom:

  * 20 authors; 20 categories (7 parents with children, the default
    category, one ASCII slug); 200 tags; slugs percent-encoded UTF-8 in
    lowercase, made the way WordPress's sanitize_title_with_dashes makes them
    (cut at 200 encoded characters on a whole character);
  * POSTS posts: ~88% publish, 4% draft, 2% pending, 2% future (2030-2031),
    2% private, 2% trash. Drafts and pending posts have an empty post_name and
    a post_date_gmt of 0000-00-00 00:00:00 and an empty pubDate, as WordPress
    exports them. About 70% are block-editor content (<!-- wp:paragraph -->,
    headings, lists), the rest classic-editor text (paragraphs separated by
    blank lines). Body ~WORDS words; 1-3 categories and 1-3 tags each;
  * every published post carries exactly COMMENTS comments (none on other
    statuses): ~26% are replies (threads at most 3 deep), ~90% approved, 5%
    pending, 3% spam, 2% trash, some by registered authors; some with a link
    and a line break.

Text is made from a hand-written vocabulary (subjects, verbs with gender
agreement, objects, places, quotes, whole sentences), drawn with a skew so
some words are common and some rare; numbers appear in Western and
Arabic-Indic digits.

Deterministic: the same --seed and arguments give the same bytes (Python's
random.Random and hashlib only). Streaming: one post is built at a time and
written out; the only state kept across posts is a fixed 4 MiB bit set used
to spot repeated slugs (a repeat gets "-<post_id>" appended, as WordPress
appends "-2"), so memory does not grow with --posts. Progress goes to stderr
every 10,000 posts, and a summary (posts by status, comments, bytes, rate)
at the end.
"""
import argparse
import datetime
import hashlib
import random
import re
import sys
import time
import urllib.parse

SITE = 'https://akhbar.example'
TZ = datetime.timedelta(hours=3)

# --------------------------------------------------------------- vocabulary
AUTHORS = [
    ('هدى', 'سالم', 'huda', 'salem'), ('كريم', 'الخطيب', 'karim', 'khatib'),
    ('ريم', 'الأحمد', 'reem', 'ahmad'), ('طارق', 'منصور', 'tarek', 'mansour'),
    ('نور', 'حداد', 'nour', 'haddad'), ('باسل', 'العلي', 'basel', 'ali'),
    ('دينا', 'يوسف', 'dina', 'youssef'), ('مازن', 'الشريف', 'mazen', 'sharif'),
    ('لينا', 'عيسى', 'lina', 'issa'), ('فادي', 'نجم', 'fadi', 'najm'),
    ('سارة', 'القاسم', 'sara', 'qasem'), ('وليد', 'الحسن', 'walid', 'hasan'),
    ('جنى', 'الصالح', 'jana', 'saleh'), ('حسام', 'عودة', 'husam', 'odeh'),
    ('ياسمين', 'خليل', 'yasmin', 'khalil'), ('أنس', 'البكري', 'anas', 'bakri'),
    ('رهف', 'الزعبي', 'rahaf', 'zoubi'), ('خالد', 'المصري', 'khaled', 'masri'),
    ('ميس', 'العمر', 'mais', 'omar'), ('زياد', 'الشامي', 'ziad', 'shami'),
]

# (name, parent name or None, ASCII slug or None)
CATEGORIES = [
    ('غير مصنف', None, None),
    ('محليات', None, None), ('البلدية', 'محليات', None), ('التعليم', 'محليات', None), ('الصحة', 'محليات', None),
    ('اقتصاد', None, None), ('أسواق', 'اقتصاد', None), ('عقارات', 'اقتصاد', None), ('طاقة', 'اقتصاد', None),
    ('رياضة', None, None), ('كرة القدم', 'رياضة', None), ('كرة السلة', 'رياضة', None), ('ألعاب القوى', 'رياضة', None),
    ('ثقافة وفنون', None, None), ('سينما', 'ثقافة وفنون', None), ('كتب', 'ثقافة وفنون', None),
    ('تقنية', None, 'tech'), ('آراء', None, None), ('منوعات', None, None), ('الطقس', None, None),
]

TAG_HEADS = ['أسعار', 'مدارس', 'طرق', 'ملاعب', 'حدائق', 'أسواق', 'مشاريع', 'انتخابات', 'مياه', 'كهرباء',
             'مستشفيات', 'مهرجانات', 'شباب', 'مزارع', 'مكتبات', 'حافلات', 'نفايات', 'جامعات', 'مصانع', 'مخابز']
TAG_TAILS = ['المدينة', 'الريف', 'الحي القديم', 'الأحياء الشمالية', 'وادي السنابل', 'العاصمة', 'الضواحي',
             'المحافظة', 'القرى', 'المنطقة الصناعية', 'عين الحجل', 'تلة الصنوبر', 'حي الزيتون', 'الساحل', 'الجبل']

SUBJECTS = [  # (noun phrase, gender)
    ('المجلس البلدي', 0), ('رئيس البلدية', 0), ('الدفاع المدني', 0), ('مجلس إدارة المستشفى', 0),
    ('اتحاد كرة القدم', 0), ('نادي السنابل', 0), ('مدير التربية', 0), ('صندوق التنمية', 0),
    ('المركز الثقافي', 0), ('اتحاد المزارعين', 0), ('مجلس الحي', 0), ('المصرف المحلي', 0),
    ('فريق الإنقاذ', 0), ('محافظ المدينة', 0), ('المعهد التقني', 0),
    ('البلدية', 1), ('وزارة الصحة', 1), ('دائرة الأشغال', 1), ('غرفة التجارة', 1), ('نقابة المعلمين', 1),
    ('لجنة السير', 1), ('إدارة المستشفى', 1), ('الجامعة', 1), ('جمعية حماية المستهلك', 1),
    ('هيئة النقل', 1), ('شركة الكهرباء', 1), ('المكتبة العامة', 1), ('لجنة الانتخابات', 1),
    ('دائرة الأرصاد', 1), ('مديرية الزراعة', 1),
]
HEAD_VERBS = [('يعلن', 'تعلن'), ('يقر', 'تقر'), ('يطلق', 'تطلق'), ('يفتتح', 'تفتتح'), ('يناقش', 'تناقش'),
              ('يرفض', 'ترفض'), ('يؤجل', 'تؤجل'), ('يدرس', 'تدرس'), ('يعتمد', 'تعتمد'), ('يوسع', 'توسع'),
              ('يجدد', 'تجدد'), ('يراجع', 'تراجع'), ('يدشن', 'تدشن'), ('يستعرض', 'تستعرض'), ('يتابع', 'تتابع')]
BODY_VERBS = [('أعلن', 'أعلنت'), ('أقر', 'أقرت'), ('أطلق', 'أطلقت'), ('افتتح', 'افتتحت'), ('ناقش', 'ناقشت'),
              ('رفض', 'رفضت'), ('أجل', 'أجلت'), ('درس', 'درست'), ('اعتمد', 'اعتمدت'), ('وسع', 'وسعت'),
              ('جدد', 'جددت'), ('راجع', 'راجعت'), ('دشن', 'دشنت'), ('استعرض', 'استعرضت'), ('تابع', 'تابعت'),
              ('أنجز', 'أنجزت'), ('بحث', 'بحثت'), ('عرض', 'عرضت')]
OBJECTS = [
    'خطة تطوير شبكة الصرف الصحي', 'مشروع توسعة الطريق الدائري', 'موازنة العام المقبل',
    'مقترح تعديل ساعات الدوام', 'نتائج المسح السكاني', 'حملة التطعيم الموسمية', 'أعمال صيانة الجسر القديم',
    'قائمة المرشحين النهائية', 'جدول مباريات الموسم', 'معرض الكتاب السنوي', 'مهرجان الأفلام القصيرة',
    'أسعار الخبز المدعوم', 'تعرفة الكهرباء الجديدة', 'منصة الخدمات الإلكترونية', 'مركز الرعاية الصحية الأولية',
    'شبكة الألياف الضوئية', 'سوق المزارعين الأسبوعي', 'برنامج الإسكان الميسر', 'مشروع الطاقة الشمسية',
    'خطة إعادة تدوير النفايات', 'ملف المياه الجوفية', 'قانون تنظيم البناء', 'نظام الحافلات السريعة',
    'مسابقة القراءة المدرسية', 'دليل السلامة المرورية', 'تقرير جودة الهواء', 'برنامج تدريب الشباب',
    'مشروع الحديقة المركزية', 'عقد تشغيل المسلخ البلدي', 'خطة ترميم المدينة القديمة', 'مخطط الأحياء الشمالية',
    'ميزانية الأندية الرياضية', 'مشروع تحلية المياه', 'حملة تشجير التلال', 'خدمة الإسعاف الجوي',
    'رسوم مواقف السيارات', 'منحة طلاب الجامعات', 'سياسة حماية البيانات', 'مشروع المكتبة الرقمية',
    'خطة الطوارئ الشتوية',
]
PLACES = [  # later entries are drawn less often: the rare names search can look for
    'في الحي الشمالي', 'في ساحة البلدية', 'في المنطقة الصناعية', 'قرب محطة القطار', 'في حي الزيتون',
    'في شارع الطاحونة', 'قرب سوق الحدادين', 'عند دوار الساعة', 'في حي الكروم', 'قرب الملعب البلدي',
    'على طريق المطار', 'في حي المعلمين', 'قرب جسر الوادي', 'في ضاحية الياسمين', 'في تلة الصنوبر',
    'عند بوابة المدينة القديمة', 'على ضفاف وادي الغزلان', 'في قرية عين الحجل', 'قرب خان البرتقال',
    'في حارة القناطر',
]
TIMES = ['صباح اليوم', 'مساء أمس', 'خلال الأسبوع الجاري', 'مطلع الشهر المقبل', 'في نهاية العام',
         'بعد أشهر من النقاش', 'في جلسة طارئة', 'خلال اجتماع مطول', 'في مؤتمر صحفي', 'قبل حلول الشتاء',
         'مع بداية الموسم', 'عقب زيارة ميدانية']
EXTRAS = ['بحضور عدد من الأهالي', 'وسط ترحيب واسع من السكان', 'رغم اعتراض بعض الأعضاء',
          'بكلفة تقارب {n} ألف دينار', 'بدعم من صندوق التنمية', 'بالتعاون مع الجامعة',
          'على أن يبدأ التنفيذ خلال أسابيع', 'ضمن خطة تمتد خمس سنوات', 'بعد تأخير استمر {n} يوما',
          'بمشاركة {n} متطوعا']
SPEAKERS = [('وقال مصدر في البلدية', 'إن'), ('وأوضح مدير المشروع', 'أن'),
            ('وأكدت المتحدثة باسم الوزارة', 'أن'), ('ويقول أحد السكان', 'إن'), ('وذكر بيان رسمي', 'أن'),
            ('وأشار خبير في التخطيط العمراني', 'إلى أن'), ('وقالت رئيسة اللجنة', 'إن'),
            ('وصرح مسؤول في الدائرة', 'بأن')]  # (speaker, the particle its verb takes)
CLAUSES = ['العمل سيستمر حتى نهاية الشهر', 'الأسعار ستبقى مستقرة خلال الموسم', 'المشروع سيوفر مئات فرص العمل',
           'الطلب تضاعف منذ بداية العام', 'التنفيذ تأخر بسبب نقص التمويل', 'الأولوية ستكون للأحياء الأكثر تضررا',
           'النتائج ستعلن خلال أيام', 'الخطة تحتاج إلى مراجعة شاملة', 'السكان سيلمسون الفرق قريبا',
           'الكلفة أعلى مما كان متوقعا', 'الدراسة شملت أكثر من {n} أسرة', 'المرحلة الأولى أنجزت بنسبة {p}٪']
SENTENCES = [
    'ويأمل الأهالي أن تنعكس هذه الخطوة على مستوى الخدمات في الأحياء البعيدة.',
    'ولم يصدر حتى الآن أي تعليق رسمي على هذه الأنباء.',
    'وتعد هذه المرة الأولى التي تشهد فيها المدينة مثل هذا الإقبال.',
    'ومن المنتظر أن تعرض التفاصيل الكاملة على المجلس في جلسته المقبلة.',
    'ويشكو سكان الأحياء الطرفية منذ سنوات من ضعف الخدمات الأساسية.',
    'وتشير الأرقام الأولية إلى تحسن ملحوظ مقارنة بالعام الماضي.',
    'ودعا ناشطون إلى إشراك الشباب في صياغة القرارات المحلية.',
    'وتتزامن هذه الخطوة مع ارتفاع ملحوظ في أسعار المواد الأساسية.',
    'وأثار القرار نقاشا واسعا على مواقع التواصل الاجتماعي.',
    'ويتوقع أن يستفيد من المشروع آلاف الطلاب والعمال يوميا.',
    'وكانت المدينة قد شهدت العام الماضي تجربة مماثلة لم تكتمل.',
    'وتعمل الفرق الفنية على مدار الساعة لإنجاز الأعمال في موعدها.',
    'وتبقى مسألة التمويل العقبة الأكبر أمام توسيع المشروع.',
    'ويرى مراقبون أن نجاح التجربة قد يشجع مدنا أخرى على تبنيها.',
    'وفي المقابل، طالب تجار السوق بتعويضهم عن خسائر فترة الإغلاق.',
    'وأعرب عدد من المزارعين عن قلقهم من تراجع منسوب المياه في الآبار.',
    'وسجلت محطات الرصد درجات حرارة أعلى من معدلاتها الموسمية.',
    'وتستعد المدارس لاستقبال الطلاب وسط إجراءات تنظيمية جديدة.',
    'وشهدت الجلسة مداخلات حادة بين ممثلي الأحياء وأعضاء المجلس.',
    'ويمكن للمواطنين تقديم ملاحظاتهم عبر الموقع الإلكتروني للبلدية.',
    'واحتفل الجمهور بالفوز حتى ساعات متأخرة من الليل في الساحة الكبرى.',
    'وتألق حارس المرمى بتصديات حاسمة في الدقائق الأخيرة.',
    'وعرضت الفرقة المسرحية عملا جديدا مستوحى من حكايات الجدات.',
    'واستقطب المعرض زوارا من القرى المجاورة على مدى ثلاثة أيام.',
    'وأطلق طلاب الجامعة تطبيقا يساعد السكان على الإبلاغ عن الأعطال.',
    'وتراجعت حركة البيع في الأسواق مع اقتراب نهاية الشهر.',
    'وحذرت دائرة الأرصاد من رياح قوية وأمطار رعدية متفرقة.',
    'وأكد الأطباء أهمية الفحص المبكر للوقاية من الأمراض المزمنة.',
    'وتحولت الساحة إلى ملتقى للعائلات في أمسيات الصيف.',
    'ويحتاج الجسر إلى أعمال تدعيم عاجلة بحسب تقرير المهندسين.',
    'واشتكى سائقو سيارات الأجرة من الازدحام الخانق عند مداخل المدينة.',
    'وتوزعت الفعاليات بين المسرح المفتوح وقاعة المركز الثقافي.',
]
HEADINGS = ['خلفية القرار', 'ردود الفعل', 'الخطوات المقبلة', 'أرقام ودلالات', 'مطالب الأهالي', 'ماذا بعد؟',
            'التمويل والكلفة', 'آراء الخبراء']
COMMENT_LINES = ['شكرا على هذا التقرير المفصل.', 'نحتاج إلى متابعة حقيقية وليس إلى وعود فقط.',
                 'أين كانت البلدية طوال السنوات الماضية؟', 'خطوة جيدة لكنها متأخرة.',
                 'أتمنى أن يشمل المشروع حينا أيضا.', 'هل هناك موعد محدد لبدء التنفيذ؟',
                 'الأسعار ارتفعت كثيرا ولا أحد يسمعنا.', 'أحسنتم، هذا ما كنا ننتظره.',
                 'المعلومات في الفقرة الثانية غير دقيقة.', 'نرجو نشر تفاصيل أكثر عن الكلفة.',
                 'تجربة مماثلة نجحت في مدينة مجاورة.', 'أوافق الرأي تماما.', 'لا أظن أن هذا سيحل المشكلة.',
                 'مبروك للجميع!', 'الشارع عندنا ما زال بلا إنارة منذ أشهر.']
COMMENTERS = [('أبو سامر', 'abu.samer'), ('منى', 'mona'), ('حسان', 'hassan'), ('ليلى منصور', 'layla.m'),
              ('سامي', 'sami'), ('أم خالد', 'um.khaled'), ('جمال', 'jamal'), ('رغد', 'raghad'),
              ('مواطن', 'citizen'), ('عبد الله', 'abdallah'), ('هالة', 'hala'), ('يزن', 'yazan')]
SPAM_LINES = ['احصل على خصم ٩٠٪ الآن!!! <a href="https://cheap-deals.example/?ref=akhbar">اضغط هنا</a>',
              'ربح مضمون من المنزل، راسلنا فورا']
STATUSES = [('publish', 88), ('draft', 4), ('pending', 2), ('future', 2), ('private', 2), ('trash', 2)]
COMMENT_STATUSES = [('1', 90), ('0', 5), ('spam', 3), ('trash', 2)]

AR_DIGITS = str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩')


# ------------------------------------------------------------- WordPress bits
def utf8_uri_encode(s, length=0):
    out, n = [], 0
    for ch in s:
        enc = ch if ord(ch) < 128 else ''.join('%%%x' % b for b in ch.encode('utf-8'))
        if length and n + len(enc) > length:
            break
        out.append(enc)
        n += len(enc)
    return ''.join(out)


_STRIP = ('%c2%ad', '%c2%a1', '%c2%bf', '%c2%ab', '%c2%bb', '%e2%80%b9', '%e2%80%ba', '%e2%80%98',
          '%e2%80%99', '%e2%80%9c', '%e2%80%9d', '%e2%80%a6', '%e2%80%8b', '%e2%80%8c', '%e2%80%8d',
          '%e2%80%8e', '%e2%80%8f')
_NOT_SLUG = re.compile(r'[^%a-z0-9 _-]')
_SPACES = re.compile(r'\s+')
_DASHES = re.compile(r'-+')


def wp_slug(title, length=200):
    """sanitize_title_with_dashes($title, '', 'save') for plain-text titles."""
    t = utf8_uri_encode(title.lower(), length).lower()
    for a in ('%c2%a0', '%e2%80%93', '%e2%80%94'):
        t = t.replace(a, '-')
    t = t.replace('/', '-')
    for a in _STRIP:
        t = t.replace(a, '')
    t = _NOT_SLUG.sub('', t.replace('.', '-'))
    return _DASHES.sub('-', _SPACES.sub('-', t)).strip('-')


def truncate_slug(slug, length):
    """_truncate_post_slug: decode, then re-encode up to LENGTH on a whole character."""
    if len(slug) <= length:
        return slug
    return utf8_uri_encode(urllib.parse.unquote(slug), length).rstrip('-')


def cdata(s):
    return '<![CDATA[' + s.replace(']]>', ']]]]><![CDATA[>') + ']]>'


def fmt(d):
    return d.strftime('%Y-%m-%d %H:%M:%S')


def rfc822(d):
    return d.strftime('%a, %d %b %Y %H:%M:%S +0000') if d else ''


class SlugSet:
    """A fixed-size bit set (Bloom filter, 2 hashes): no false negatives, so a
    slug not seen is never reported seen; a false 'seen' only adds a suffix."""
    BITS = 1 << 25

    def __init__(self):
        self.b = bytearray(self.BITS // 8)

    def add(self, s):
        h = hashlib.blake2b(s.encode(), digest_size=8).digest()
        i, j = int.from_bytes(h[:4], 'little') % self.BITS, int.from_bytes(h[4:], 'little') % self.BITS
        seen = (self.b[i >> 3] >> (i & 7)) & 1 and (self.b[j >> 3] >> (j & 7)) & 1
        self.b[i >> 3] |= 1 << (i & 7)
        self.b[j >> 3] |= 1 << (j & 7)
        return bool(seen)


# ----------------------------------------------------------------- generator
class Gen:
    def __init__(self, args):
        self.a = args
        self.r = random.Random(args.seed)
        self.slugs = SlugSet()
        self.comment_id = 0
        self.counts = {s: 0 for s, _ in STATUSES}
        self.comment_counts = {s: 0 for s, _ in COMMENT_STATUSES}
        self.authors = [('%s.%s' % (fl, ll), '%s.%s@akhbar.example' % (fl, ll), '%s %s' % (f, l), f, l)
                        for f, l, fl, ll in AUTHORS]
        self.cats = []                                  # (term_id, name, slug, parent slug)
        slug_of = {}
        for i, (name, parent, ascii_slug) in enumerate(CATEGORIES, start=1):
            slug_of[name] = ascii_slug or wp_slug(name)
            self.cats.append((i, name, slug_of[name], slug_of[parent] if parent else ''))
        combos = ['%s %s' % (h, t) for h in TAG_HEADS for t in TAG_TAILS]
        tr = random.Random(args.seed * 7919 + 1)
        tr.shuffle(combos)
        base = len(self.cats) + 1
        self.tags = [(base + i, n, wp_slug(n)) for i, n in enumerate(combos[:200])]

    # skewed pick: early entries common, late ones rare
    def pick(self, seq):
        x = self.r.random()
        return seq[int(len(seq) * x * x)]

    def num(self, lo, hi):
        """A number whose last two digits are 11-99, so the singular accusative noun after it
        (متطوعا، يوما، أسرة) is grammatical; Western or Arabic-Indic digits."""
        n = self.r.randint(lo, hi)
        if n % 100 < 11:
            n += 11
        s = str(n)
        return s.translate(AR_DIGITS) if self.r.random() < 0.5 else s

    def fill(self, s):
        if '{' in s:
            s = s.replace('{n}', self.num(11, 950)).replace('{p}', self.num(12, 97))
        return s

    def sentence(self, first):
        r = self.r.random()
        if r < 0.45:
            subj, g = self.pick(SUBJECTS)
            verb = self.r.choice(BODY_VERBS)[g]
            parts = [verb, subj, self.pick(OBJECTS)]
            if self.r.random() < 0.6:
                parts.append(self.pick(PLACES))
            parts.append(self.r.choice(TIMES) if self.r.random() < 0.5 else self.fill(self.r.choice(EXTRAS)))
            s = ' '.join(parts) + '.'
            if not first:
                s = ('و' if self.r.random() < 0.7 else 'كما ') + s
            return s
        if r < 0.65:
            speaker, particle = self.r.choice(SPEAKERS)
            return '%s %s %s.' % (speaker, particle, self.fill(self.r.choice(CLAUSES)))
        return self.pick(SENTENCES)

    def body(self):
        words, paras = 0, []
        target = self.a.words
        while words < target:
            sents = [self.sentence(i == 0) for i in range(self.r.randint(2, 5))]
            p = ' '.join(sents)
            words += p.count(' ') + 1
            paras.append(p)
        if self.r.random() < 0.7:                       # block editor
            out = []
            for i, p in enumerate(paras):
                if i and i % 3 == 0 and self.r.random() < 0.5:
                    out.append('<!-- wp:heading {"level":3} -->\n<h3 class="wp-block-heading">%s</h3>\n'
                               '<!-- /wp:heading -->' % self.r.choice(HEADINGS))
                if i == 2 and self.r.random() < 0.2:
                    items = [self.pick(OBJECTS) for _ in range(3)]
                    out.append('<!-- wp:list -->\n<ul class="wp-block-list">' + '\n\n'.join(
                        '<!-- wp:list-item -->\n<li>%s</li>\n<!-- /wp:list-item -->' % x for x in items)
                        + '</ul>\n<!-- /wp:list -->')
                out.append('<!-- wp:paragraph -->\n<p>%s</p>\n<!-- /wp:paragraph -->' % p)
            return '\n\n'.join(out), paras[0]
        return '\n\n'.join(paras), paras[0]          # classic editor: wpautop at render time

    def title(self):
        # uniform picks (not skewed) so titles rarely repeat; a repeated slug gets "-<post_id>"
        subj, g = self.r.choice(SUBJECTS)
        t = '%s %s %s' % (subj, self.r.choice(HEAD_VERBS)[g], self.r.choice(OBJECTS))
        if self.r.random() < 0.8:
            t += ' ' + self.r.choice(PLACES)
        if self.r.random() < 0.2:
            t += ' ' + self.r.choice(TIMES)
        return t

    def weighted(self, table):
        x = self.r.random() * 100
        for k, w in table:
            x -= w
            if x < 0:
                return k
        return table[0][0]

    def header(self, w):
        w('<?xml version="1.0" encoding="UTF-8" ?>\n'
          '<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->\n'
          '<!-- Synthetic: made by bench/wxr_generate.py (posts=%d comments=%d words=%d seed=%d). -->\n'
          '<!-- generator="WordPress/6.5.3" created="2024-06-01 09:30" -->\n'
          '<rss version="2.0"\n'
          '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
          '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
          '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
          '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
          '\txmlns:wp="http://wordpress.org/export/1.2/"\n>\n\n<channel>\n'
          '\t<title>أخبار السنابل</title>\n\t<link>%s</link>\n'
          '\t<description>أخبار مدينة وادي السنابل لحظة بلحظة</description>\n'
          '\t<pubDate>Sat, 01 Jun 2024 06:30:00 +0000</pubDate>\n\t<language>ar</language>\n'
          '\t<wp:wxr_version>1.2</wp:wxr_version>\n'
          '\t<wp:base_site_url>%s</wp:base_site_url>\n\t<wp:base_blog_url>%s</wp:base_blog_url>\n\n'
          % (self.a.posts, self.a.comments, self.a.words, self.a.seed, SITE, SITE, SITE))
        for i, (login, email, display, first, last) in enumerate(self.authors, start=1):
            w('\t<wp:author><wp:author_id>%d</wp:author_id><wp:author_login>%s</wp:author_login>'
              '<wp:author_email>%s</wp:author_email><wp:author_display_name>%s</wp:author_display_name>'
              '<wp:author_first_name>%s</wp:author_first_name><wp:author_last_name>%s</wp:author_last_name>'
              '</wp:author>\n' % (i, cdata(login), cdata(email), cdata(display), cdata(first), cdata(last)))
        w('\n')
        for tid, name, slug, parent in self.cats:
            w('\t<wp:category>\n\t\t<wp:term_id>%d</wp:term_id>\n\t\t<wp:category_nicename>%s</wp:category_nicename>\n'
              '\t\t<wp:category_parent>%s</wp:category_parent>\n\t\t<wp:cat_name>%s</wp:cat_name>\n\t</wp:category>\n'
              % (tid, cdata(slug), cdata(parent), cdata(name)))
        for tid, name, slug in self.tags:
            w('\t<wp:tag>\n\t\t<wp:term_id>%d</wp:term_id>\n\t\t<wp:tag_slug>%s</wp:tag_slug>\n'
              '\t\t<wp:tag_name>%s</wp:tag_name>\n\t</wp:tag>\n' % (tid, cdata(slug), cdata(name)))
        w('\n\t<generator>https://wordpress.org/?v=6.5.3</generator>\n\n')

    def post(self, pid, i, w):
        r, a = self.r, self.a
        status = self.weighted(STATUSES)
        self.counts[status] += 1
        author = r.randrange(len(self.authors))
        span = 5 * 365 * 86400
        if status == 'future':
            local = datetime.datetime(2030, 1, 1) + datetime.timedelta(seconds=r.randrange(2 * 365 * 86400))
        else:
            local = datetime.datetime(2019, 6, 1) + datetime.timedelta(
                seconds=int(span * (i + r.random()) / max(1, a.posts)))
        local = local.replace(microsecond=0)
        modified = local + datetime.timedelta(minutes=r.randint(0, 600))
        floating = status in ('draft', 'pending')
        date_gmt = None if floating else local - TZ
        title = self.title()
        if floating:
            slug = ''
        else:
            slug = wp_slug(title)
            if self.slugs.add(slug):
                suffix = '-%d' % pid
                slug = truncate_slug(slug, 200 - len(suffix)) + suffix
        if status in ('publish', 'private'):
            link = '%s/%s/%s/' % (SITE, local.strftime('%Y/%m/%d'), slug)
        else:
            link = '%s/?p=%d' % (SITE, pid)
        content, first_para = self.body()
        excerpt = first_para.split('.')[0] + '.' if r.random() < 0.4 else ''
        o = ['\t<item>\n\t\t<title>', cdata(title), '</title>\n\t\t<link>', link, '</link>\n\t\t<pubDate>',
             rfc822(date_gmt), '</pubDate>\n\t\t<dc:creator>', cdata(self.authors[author][0]),
             '</dc:creator>\n\t\t<guid isPermaLink="false">%s/?p=%d</guid>\n\t\t<description></description>\n'
             '\t\t<content:encoded>' % (SITE, pid), cdata(content),
             '</content:encoded>\n\t\t<excerpt:encoded>', cdata(excerpt), '</excerpt:encoded>\n',
             '\t\t<wp:post_id>%d</wp:post_id>\n' % pid,
             '\t\t<wp:post_date>%s</wp:post_date>\n' % cdata(fmt(local)),
             '\t\t<wp:post_date_gmt>%s</wp:post_date_gmt>\n' % cdata(fmt(date_gmt) if date_gmt else '0000-00-00 00:00:00'),
             '\t\t<wp:post_modified>%s</wp:post_modified>\n' % cdata(fmt(modified)),
             '\t\t<wp:post_modified_gmt>%s</wp:post_modified_gmt>\n' % cdata(fmt(modified - TZ)),
             '\t\t<wp:comment_status><![CDATA[open]]></wp:comment_status>\n'
             '\t\t<wp:ping_status><![CDATA[open]]></wp:ping_status>\n',
             '\t\t<wp:post_name>%s</wp:post_name>\n' % cdata(slug),
             '\t\t<wp:status>%s</wp:status>\n' % cdata(status),
             '\t\t<wp:post_parent>0</wp:post_parent>\n\t\t<wp:menu_order>0</wp:menu_order>\n'
             '\t\t<wp:post_type><![CDATA[post]]></wp:post_type>\n'
             '\t\t<wp:post_password><![CDATA[]]></wp:post_password>\n'
             '\t\t<wp:is_sticky>0</wp:is_sticky>\n']
        for cat in r.sample(self.cats[1:], r.randint(1, 3)):
            o.append('\t\t<category domain="category" nicename="%s">%s</category>\n' % (cat[2], cdata(cat[1])))
        for tag in r.sample(self.tags, r.randint(1, 3)):
            o.append('\t\t<category domain="post_tag" nicename="%s">%s</category>\n' % (tag[2], cdata(tag[1])))
        o.append('\t\t<wp:postmeta>\n\t\t\t<wp:meta_key><![CDATA[_edit_last]]></wp:meta_key>\n'
                 '\t\t\t<wp:meta_value>%s</wp:meta_value>\n\t\t</wp:postmeta>\n' % cdata(str(author + 1)))
        if status == 'trash':
            o.append('\t\t<wp:postmeta>\n\t\t\t<wp:meta_key><![CDATA[_wp_trash_meta_status]]></wp:meta_key>\n'
                     '\t\t\t<wp:meta_value><![CDATA[publish]]></wp:meta_value>\n\t\t</wp:postmeta>\n')
        if status == 'publish':
            self.comments(o, local)
        o.append('\t</item>\n')
        w(''.join(o))

    def comments(self, o, post_local):
        r = self.r
        depth = []                                      # (comment id, depth) of this post's comments
        when = post_local
        for _ in range(self.a.comments):
            self.comment_id += 1
            cid = self.comment_id
            parent, d = 0, 0
            if depth and r.random() < 0.3:
                pc, pd = r.choice(depth)
                if pd < 2:
                    parent, d = pc, pd + 1
            depth.append((cid, d))
            status = self.weighted(COMMENT_STATUSES)
            self.comment_counts[status] += 1
            when = when + datetime.timedelta(minutes=r.randint(3, 900))
            user_id, url = 0, ''
            if status == 'spam':
                name, email, url = 'عروض حصرية', 'promo@cheap-deals.example', 'https://cheap-deals.example/'
                text = r.choice(SPAM_LINES)
            else:
                if r.random() < 0.05:
                    k = r.randrange(len(self.authors))
                    user_id, name, email, url = k + 1, self.authors[k][2], self.authors[k][1], SITE
                else:
                    name, mail = r.choice(COMMENTERS)
                    email = '%s%d@mail.example' % (mail, r.randint(1, 99))
                lines = [r.choice(COMMENT_LINES) for _ in range(r.randint(1, 3))]
                text = ' '.join(lines)
                if r.random() < 0.1:
                    text += '\nالتفاصيل هنا: <a href="https://akhbar.example/?p=%d" rel="nofollow ugc">رابط</a>' % r.randint(1, 999)
            ip = '%s.%d' % (r.choice(('192.0.2', '198.51.100', '203.0.113')), r.randint(1, 254))
            o.append(
                '\t\t<wp:comment>\n\t\t\t<wp:comment_id>%d</wp:comment_id>\n'
                '\t\t\t<wp:comment_author>%s</wp:comment_author>\n'
                '\t\t\t<wp:comment_author_email>%s</wp:comment_author_email>\n'
                '\t\t\t<wp:comment_author_url>%s</wp:comment_author_url>\n'
                '\t\t\t<wp:comment_author_IP>%s</wp:comment_author_IP>\n'
                '\t\t\t<wp:comment_date>%s</wp:comment_date>\n'
                '\t\t\t<wp:comment_date_gmt>%s</wp:comment_date_gmt>\n'
                '\t\t\t<wp:comment_content>%s</wp:comment_content>\n'
                '\t\t\t<wp:comment_approved>%s</wp:comment_approved>\n'
                '\t\t\t<wp:comment_type><![CDATA[comment]]></wp:comment_type>\n'
                '\t\t\t<wp:comment_parent>%d</wp:comment_parent>\n'
                '\t\t\t<wp:comment_user_id>%d</wp:comment_user_id>\n\t\t</wp:comment>\n'
                % (cid, cdata(name), cdata(email), url, cdata(ip), cdata(fmt(when)), cdata(fmt(when - TZ)),
                   cdata(text), cdata(status), parent, user_id))


def main():
    ap = argparse.ArgumentParser(description='Write a synthetic WordPress WXR 1.2 export (Arabic newsroom).')
    ap.add_argument('--posts', type=int, required=True)
    ap.add_argument('--comments', type=int, default=10, help='comments on each published post')
    ap.add_argument('--words', type=int, default=400, help='approximate words in each post body')
    ap.add_argument('--out', required=True, help='file to write')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    if a.posts < 0 or a.comments < 0 or a.words < 1:
        ap.error('--posts and --comments must be >= 0, --words >= 1')
    g = Gen(a)
    t0 = time.monotonic()
    with open(a.out, 'w', encoding='utf-8', newline='\n', buffering=1 << 20) as f:
        w = f.write
        g.header(w)
        for i in range(a.posts):
            g.post(1000 + i, i, w)
            if (i + 1) % 10000 == 0:
                el = time.monotonic() - t0
                print('wxr_generate: %d/%d posts, %.1f s, %.0f posts/s'
                      % (i + 1, a.posts, el, (i + 1) / el), file=sys.stderr, flush=True)
        w('</channel>\n</rss>\n')
        size = f.tell()
    el = time.monotonic() - t0
    print('wxr_generate: wrote %s: %d posts %s, %d comments %s, %d authors, %d categories, %d tags, '
          '%.1f MB in %.1f s (%.0f posts/s)'
          % (a.out, a.posts, g.counts, g.comment_id, g.comment_counts, len(g.authors), len(g.cats),
             len(g.tags), size / 1e6, el, a.posts / el if el else 0), file=sys.stderr)


if __name__ == '__main__':
    main()
