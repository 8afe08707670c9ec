"""A realistic, deterministic demo expo modelled on the China (Jinjiang) International Footwear Expo.

The same generator seeds the Canton-Fair-size benchmark data (``load(exhibitors=30_000, ...)``). Rows are inserted
in bulk; every demo account shares one password hash because hashing is deliberately slow.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, inspect, select, text

from expo.audit import AuditEntry
from expo.auth.models import Role, User
from expo.auth.services import hash_password
from expo.buyers.models import (
    Buyer,
    BuyerStatus,
    Delegation,
    HostedStatus,
    Passport,
    VolumeBand,
    buyer_categories,
    delegation_categories,
)
from expo.categories.models import ProductCategory, exhibitor_categories
from expo.exhibitors.models import ApplicationStatus, CornerPreference, Exhibitor, ExhibitorStaff, SpaceApplication
from expo.extensions import db
from expo.venue.models import ExhibitionArea, Expo, Hall, Pavilion

DEMO_PASSWORD = "expo-demo-2026"
SEED = 20261122

# (code, zh, en, parent code)
CATEGORIES = [
    ("athletic", "运动鞋", "Athletic shoes", None),
    ("athletic.running", "跑步鞋", "Running shoes", "athletic"),
    ("athletic.basketball", "篮球鞋", "Basketball shoes", "athletic"),
    ("athletic.football", "足球鞋", "Football boots", "athletic"),
    ("athletic.outdoor", "户外登山鞋", "Outdoor and hiking shoes", "athletic"),
    ("athletic.training", "综合训练鞋", "Training shoes", "athletic"),
    ("casual", "休闲鞋", "Casual shoes", None),
    ("casual.sneakers", "板鞋", "Sneakers", "casual"),
    ("casual.canvas", "帆布鞋", "Canvas shoes", "casual"),
    ("casual.sandals", "凉鞋拖鞋", "Sandals and slippers", "casual"),
    ("leather", "皮鞋", "Leather shoes", None),
    ("leather.men", "男士皮鞋", "Men's leather shoes", "leather"),
    ("leather.women", "女鞋", "Women's shoes", "leather"),
    ("children", "童鞋", "Children's shoes", None),
    ("functional", "功能鞋", "Functional footwear", None),
    ("functional.safety", "劳保安全鞋", "Safety shoes", "functional"),
    ("functional.health", "健康鞋", "Orthopaedic and comfort shoes", "functional"),
    ("apparel", "运动服装及配件", "Sportswear and accessories", None),
    ("apparel.sportswear", "运动服装", "Sportswear", "apparel"),
    ("apparel.socks", "袜子", "Socks", "apparel"),
    ("apparel.bags", "箱包配件", "Bags and accessories", "apparel"),
    ("materials", "鞋材", "Shoe materials", None),
    ("materials.leather", "皮革", "Upper leather", "materials"),
    ("materials.synthetic", "合成革与超纤", "Synthetic and microfibre leather", "materials"),
    ("materials.textiles", "纺织面料与网布", "Textiles and mesh", "materials"),
    ("materials.soles", "鞋底大底", "Outsoles", "materials"),
    ("materials.midsoles", "EVA中底", "EVA midsoles", "materials"),
    ("materials.adhesives", "胶粘剂与化工", "Adhesives and chemicals", "materials"),
    ("materials.insoles", "鞋垫", "Insoles", "materials"),
    ("materials.hardware", "鞋带与五金", "Laces and hardware", "materials"),
    ("materials.packaging", "包装", "Packaging", "materials"),
    ("machinery", "鞋机设备", "Footwear machinery", None),
    ("machinery.cutting", "裁断设备", "Cutting machines", "machinery"),
    ("machinery.stitching", "针车缝纫", "Stitching machines", "machinery"),
    ("machinery.lasting", "成型设备", "Lasting machines", "machinery"),
    ("machinery.injection", "注塑设备", "Injection moulding machines", "machinery"),
    ("machinery.3d", "3D打印与数字设计", "3D printing and digital design", "machinery"),
    ("machinery.automation", "自动化与机器人", "Automation and robotics", "machinery"),
    ("machinery.testing", "检测设备", "Testing equipment", "machinery"),
    ("services", "服务", "Services", None),
    ("services.ecommerce", "跨境电商", "Cross-border e-commerce", "services"),
    ("services.design", "设计研发", "Design and development", "services"),
]

AREAS = [
    ("SPORT", "运动用品展区", "Sporting goods", ("athletic", "casual", "leather", "children", "functional", "apparel",
                                                 "services")),
    ("MAT", "鞋材纺织展区", "Shoe materials and textiles", ("materials",)),
    ("MACH", "机械设备展区", "Machinery and equipment", ("machinery",)),
]

# (code, area, zh, en, colour)
PAVILIONS = [
    ("BR", "SPORT", "一带一路品牌馆", "Belt and Road Brand Pavilion", "#c0392b"),
    ("INTL", "SPORT", "国际品牌馆", "International Brands Pavilion", "#8e44ad"),
    ("CITY", "SPORT", "体育城市馆", "Sports City Pavilion", "#2980b9"),
    ("INDEX", "SPORT", "产业指数馆", "Industry Index Pavilion", "#16a085"),
    ("KIDS", "SPORT", "童鞋馆", "Children's Footwear Pavilion", "#f39c12"),
    ("OUT", "SPORT", "户外运动馆", "Outdoor Sports Pavilion", "#27ae60"),
    ("ECOM", "SPORT", "跨境电商馆", "Cross-border E-commerce Pavilion", "#d35400"),
    ("ECO", "MAT", "绿色新材料馆", "Sustainable Materials Pavilion", "#2ecc71"),
    ("SOLE", "MAT", "鞋底鞋材馆", "Soles and Components Pavilion", "#7f8c8d"),
    ("TEX", "MAT", "纺织面料馆", "Textiles and Mesh Pavilion", "#3498db"),
    ("TWM", "MACH", "台湾鞋机馆", "Taiwan Shoe Machinery Pavilion", "#e74c3c"),
    ("TECH", "MACH", "科技创新馆", "Science and Technology Pavilion", "#9b59b6"),
    ("AUTO", "MACH", "智能制造馆", "Smart Manufacturing Pavilion", "#34495e"),
]

# 60,000 m² gross: six halls of 400 standard booths each, ~2,400 in all.
HALLS = [(f"{b}{f}", f"{b}馆{f}层", f"Hall {b} level {f}", 125, 80, 400) for b in "ABC" for f in (1, 2)]
# Which pavilions fill which hall, north to south; machinery halls end with a band of raw-space lots.
HALL_PAVILIONS = {"A1": ("BR", "INTL"), "A2": ("CITY", "INDEX", "OUT"), "B1": ("KIDS", "ECOM"),
                  "B2": ("ECO", "SOLE", "TEX"), "C1": ("TWM", "TECH"), "C2": ("AUTO",)}
PAVILION_CATEGORIES = {
    "BR": ("athletic", "casual"), "INTL": ("athletic", "leather"), "CITY": ("athletic", "apparel"),
    "INDEX": ("services",), "KIDS": ("children",), "OUT": ("athletic.outdoor", "apparel.bags"),
    "ECOM": ("services.ecommerce",), "ECO": ("materials.synthetic", "materials.textiles"),
    "SOLE": ("materials.soles", "materials.midsoles", "materials.insoles"), "TEX": ("materials.textiles",),
    "TWM": ("machinery",), "TECH": ("machinery.3d", "machinery.automation"),
    "AUTO": ("machinery.automation", "machinery.injection"),
}
STANDARD_BOOTH_PRICE_CNY = 12800  # a 3×3 m shell-scheme booth
RAW_SPACE_PRICE_CNY_PER_M2 = 1300

CITIES = [("晋江", "Jinjiang", "福建", "Fujian"), ("泉州", "Quanzhou", "福建", "Fujian"),
          ("石狮", "Shishi", "福建", "Fujian"), ("莆田", "Putian", "福建", "Fujian"),
          ("福州", "Fuzhou", "福建", "Fujian"), ("厦门", "Xiamen", "福建", "Fujian"),
          ("南安", "Nan'an", "福建", "Fujian"), ("温州", "Wenzhou", "浙江", "Zhejiang"),
          ("东莞", "Dongguan", "广东", "Guangdong"), ("广州", "Guangzhou", "广东", "Guangdong"),
          ("成都", "Chengdu", "四川", "Sichuan"), ("台州", "Taizhou", "浙江", "Zhejiang")]
BRANDS = [("鸿星", "Hongxing"), ("金峰", "Jinfeng"), ("华丰", "Huafeng"), ("永利", "Yongli"), ("恒达", "Hengda"),
          ("盛宏", "Shenghong"), ("嘉源", "Jiayuan"), ("新力", "Xinli"), ("远航", "Yuanhang"), ("腾飞", "Tengfei"),
          ("瑞康", "Ruikang"), ("凯旋", "Kaixuan"), ("宝龙", "Baolong"), ("天行", "Tianxing"), ("安步", "Anbu"),
          ("迅驰", "Xunchi"), ("飞燕", "Feiyan"), ("长兴", "Changxing"), ("华美", "Huamei"), ("鑫源", "Xinyuan"),
          ("博盛", "Bosheng"), ("协丰", "Xiefeng"), ("泰亚", "Taiya"), ("锦程", "Jincheng"), ("力登", "Lideng")]
# (zh, en, area, categories)
TRADES = [("鞋业", "Footwear", "SPORT", ("athletic.running", "athletic.training", "casual.sneakers")),
          ("体育用品", "Sporting Goods", "SPORT", ("athletic.basketball", "athletic.football", "apparel.sportswear")),
          ("童鞋", "Children's Footwear", "SPORT", ("children", "casual.canvas")),
          ("户外用品", "Outdoor Products", "SPORT", ("athletic.outdoor", "apparel.bags")),
          ("皮鞋", "Leather Shoes", "SPORT", ("leather.men", "leather.women")),
          ("鞋材", "Shoe Materials", "MAT", ("materials.synthetic", "materials.insoles")),
          ("橡塑", "Rubber and Plastics", "MAT", ("materials.soles", "materials.midsoles")),
          ("纺织", "Textiles", "MAT", ("materials.textiles",)),
          ("化工", "Chemicals", "MAT", ("materials.adhesives",)),
          ("机械", "Machinery", "MACH", ("machinery.cutting", "machinery.stitching", "machinery.lasting")),
          ("智能科技", "Intelligent Technology", "MACH", ("machinery.automation", "machinery.3d")),
          ("注塑设备", "Injection Equipment", "MACH", ("machinery.injection", "machinery.testing"))]

FOREIGN = [  # (country, company suffix, share of the foreign exhibitors)
    ("IT", "S.r.l.", 8), ("VN", "Co., Ltd.", 10), ("KR", "Co., Ltd.", 6), ("IN", "Pvt. Ltd.", 6), ("TR", "A.S.", 4),
    ("BR", "Ltda.", 4), ("PK", "(Pvt.) Ltd.", 3), ("BD", "Ltd.", 3), ("DE", "GmbH", 4), ("ES", "S.L.", 3),
    ("PT", "Lda.", 3), ("TH", "Co., Ltd.", 3), ("ID", "PT", 4), ("MY", "Sdn. Bhd.", 2), ("US", "Inc.", 3),
    ("TW", "Co., Ltd.", 8), ("HK", "Limited", 4), ("JP", "K.K.", 2), ("KH", "Co., Ltd.", 2), ("ET", "PLC", 1),
]
FOREIGN_WORDS = ["Atlas", "Nova", "Stella", "Vega", "Orion", "Alpine", "Delta", "Summit", "Horizon", "Pioneer",
                 "Sole", "Stride", "Comfort", "Urban", "Prime", "Royal", "Golden", "Blue", "Green", "Swift"]
FOREIGN_TRADES = ["Footwear", "Shoes", "Leather", "Soles", "Machinery", "Textiles", "Components", "Sports"]
TW_NAMES = [("台中精机", "Taichung Precision"), ("环球鞋机", "Global Shoe Machinery"), ("丰泰", "Feng Tay"),
            ("宝成", "Pou Chen"), ("伟成", "Weicheng"), ("正新", "Zhengxin"), ("东碧", "Dongbi")]

SURNAMES = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("林", "Lin"),
            ("黄", "Huang"), ("吴", "Wu"), ("许", "Xu"), ("蔡", "Cai"), ("丁", "Ding"), ("施", "Shi"), ("洪", "Hong"),
            ("郑", "Zheng"), ("欧阳", "Ouyang")]
GIVEN = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("强", "Qiang"),
         ("磊", "Lei"), ("洋", "Yang"), ("艳", "Yan"), ("杰", "Jie"), ("志明", "Zhiming"), ("建华", "Jianhua"),
         ("丽华", "Lihua"), ("晓东", "Xiaodong"), ("雪梅", "Xuemei"), ("国强", "Guoqiang")]
WESTERN_FIRST = ["Marco", "Giulia", "Nguyen", "Min-jun", "Arjun", "Ayse", "Lucas", "Anna", "Jose", "Maria", "Somchai",
                 "Budi", "Aisha", "John", "Hiroshi", "Fatima", "Omar", "Elena", "Pedro", "Sara", "Ivan", "Olga"]
WESTERN_LAST = ["Rossi", "Tran", "Kim", "Sharma", "Yilmaz", "Silva", "Muller", "Garcia", "Santos", "Wongsa", "Santoso",
                "Khan", "Smith", "Tanaka", "Rahman", "Ahmed", "Petrova", "Costa", "Ivanov", "Haddad", "Okafor"]
TITLES = [("总经理", "General Manager"), ("销售经理", "Sales Manager"), ("外贸业务员", "Export Sales"),
          ("设计师", "Designer"), ("技术员", "Technician")]

BUYER_COUNTRIES = ["US", "RU", "DE", "GB", "FR", "IT", "ES", "BR", "MX", "AR", "CL", "ZA", "NG", "KE", "EG", "AE",
                   "SA", "TR", "IN", "PK", "BD", "VN", "TH", "MY", "ID", "PH", "KR", "JP", "AU", "KZ", "UZ", "PL",
                   "UA", "IR", "CA", "PE", "CO", "ET", "MA"]

# Buyers and delegations. Country or region → (English name, dial code, interpreter language).
BUYER_COUNTRY_INFO = {
    "US": ("United States", "1", "English"), "RU": ("Russia", "7", "Russian"), "DE": ("Germany", "49", "German"),
    "GB": ("United Kingdom", "44", "English"), "FR": ("France", "33", "French"), "IT": ("Italy", "39", "Italian"),
    "ES": ("Spain", "34", "Spanish"), "BR": ("Brazil", "55", "Portuguese"), "MX": ("Mexico", "52", "Spanish"),
    "AR": ("Argentina", "54", "Spanish"), "CL": ("Chile", "56", "Spanish"), "ZA": ("South Africa", "27", "English"),
    "NG": ("Nigeria", "234", "English"), "KE": ("Kenya", "254", "English"), "EG": ("Egypt", "20", "Arabic"),
    "AE": ("United Arab Emirates", "971", "Arabic"), "SA": ("Saudi Arabia", "966", "Arabic"),
    "TR": ("Turkey", "90", "Turkish"), "IN": ("India", "91", "Hindi"), "PK": ("Pakistan", "92", "Urdu"),
    "BD": ("Bangladesh", "880", "Bengali"), "VN": ("Vietnam", "84", "Vietnamese"), "TH": ("Thailand", "66", "Thai"),
    "MY": ("Malaysia", "60", "Malay"), "ID": ("Indonesia", "62", "Indonesian"), "PH": ("Philippines", "63", "English"),
    "KR": ("Korea", "82", "Korean"), "JP": ("Japan", "81", "Japanese"), "AU": ("Australia", "61", "English"),
    "KZ": ("Kazakhstan", "7", "Russian"), "UZ": ("Uzbekistan", "998", "Russian"), "PL": ("Poland", "48", "Polish"),
    "UA": ("Ukraine", "380", "Ukrainian"), "IR": ("Iran", "98", "Persian"), "CA": ("Canada", "1", "English"),
    "PE": ("Peru", "51", "Spanish"), "CO": ("Colombia", "57", "Spanish"), "ET": ("Ethiopia", "251", "Amharic"),
    "MA": ("Morocco", "212", "Arabic"),
}
# Names in the buyer's own script: groups of (given names, family names, family name first in Latin letters, family
# name first in the native script, separator there), each name a pair (as in the passport, native). Where a country
# has none here, a Latin name only.
_ARABIC = ([("Omar", "عمر"), ("Fatima", "فاطمة"), ("Ahmed", "أحمد"), ("Layla", "ليلى"), ("Khalid", "خالد"),
            ("Aisha", "عائشة")],
           [("Haddad", "حداد"), ("Al-Sayed", "السيد"), ("Mansour", "منصور"), ("Nasser", "ناصر"), ("Karim", "كريم")],
           False, False, " ")
NATIVE_NAMES = {
    "RU": [([("Dmitry", "Дмитрий"), ("Sergey", "Сергей"), ("Alexey", "Алексей"), ("Andrey", "Андрей"),
             ("Mikhail", "Михаил"), ("Pavel", "Павел")],
            [("Volkov", "Волков"), ("Kuznetsov", "Кузнецов"), ("Sokolov", "Соколов"), ("Lebedev", "Лебедев"),
             ("Morozov", "Морозов"), ("Popov", "Попов")], False, False, " "),
           ([("Olga", "Ольга"), ("Elena", "Елена"), ("Natalia", "Наталья"), ("Irina", "Ирина"), ("Anna", "Анна"),
             ("Tatiana", "Татьяна")],
            [("Volkova", "Волкова"), ("Smirnova", "Смирнова"), ("Popova", "Попова"), ("Morozova", "Морозова"),
             ("Novikova", "Новикова"), ("Sokolova", "Соколова")], False, False, " ")],
    "UA": [([("Oleksandr", "Олександр"), ("Andriy", "Андрій"), ("Kateryna", "Катерина"), ("Oksana", "Оксана")],
            [("Shevchenko", "Шевченко"), ("Bondarenko", "Бондаренко"), ("Kovalenko", "Коваленко"),
             ("Tkachenko", "Ткаченко")], False, False, " ")],
    "KZ": [([("Nurlan", "Нурлан"), ("Yerlan", "Ерлан"), ("Askar", "Аскар")],
            [("Abenov", "Абенов"), ("Nurpeisov", "Нурпеисов"), ("Zhakupov", "Жакупов")], False, False, " "),
           ([("Aigerim", "Айгерим"), ("Dana", "Дана"), ("Saule", "Сауле")],
            [("Abenova", "Абенова"), ("Nurpeisova", "Нурпеисова"), ("Zhakupova", "Жакупова")], False, False, " ")],
    "VN": [([("Van Minh", "Văn Minh"), ("Thi Lan", "Thị Lan"), ("Hoang Nam", "Hoàng Nam"), ("Thu Trang", "Thu Trang"),
             ("Duc Anh", "Đức Anh"), ("Thi Mai", "Thị Mai"), ("Quoc Bao", "Quốc Bảo")],
            [("Nguyen", "Nguyễn"), ("Tran", "Trần"), ("Le", "Lê"), ("Pham", "Phạm"), ("Hoang", "Hoàng"), ("Vo", "Võ"),
             ("Dang", "Đặng")], True, True, " ")],
    "JP": [([("Hiroshi", "博"), ("Yuki", "由紀"), ("Kenji", "健二"), ("Akiko", "明子"), ("Takeshi", "武")],
            [("Tanaka", "田中"), ("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Watanabe", "渡辺")],
            False, True, "")],
    "KR": [([("Min-jun", "민준"), ("Seo-yeon", "서연"), ("Ji-hoon", "지훈"), ("Yu-na", "유나"), ("Hyun-woo", "현우")],
            [("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최"), ("Jung", "정")], True, True, "")],
    "TH": [([("Somchai", "สมชาย"), ("Suda", "สุดา"), ("Niran", "นิรันดร์"), ("Malee", "มาลี")],
            [("Wongsa", "วงศ์สา"), ("Chaiyaporn", "ชัยพร"), ("Srisuk", "ศรีสุข")], False, False, " ")],
    "AE": [_ARABIC], "SA": [_ARABIC], "EG": [_ARABIC], "MA": [_ARABIC],
}
# Countries with many buyers of Chinese descent: a quarter of their buyers also give a name in Chinese characters.
CHINESE_DIASPORA = ("MY", "ID", "TH", "PH", "US", "CA", "AU", "GB")
BUYER_TITLES = ["Purchasing Manager", "Buyer", "Senior Buyer", "Sourcing Director", "Category Manager",
                "Managing Director", "Owner", "Product Manager", "Import Manager"]
BUYER_COMPANY_KINDS = ["Trading", "Retail", "Imports", "Sports", "Footwear", "Shoes", "Distribution", "Outdoor"]
VOLUME_WEIGHTS = [(VolumeBand.UNDER_100K, 20), (VolumeBand.FROM_100K, 35), (VolumeBand.FROM_1M, 30),
                  (VolumeBand.FROM_10M, 11), (VolumeBand.OVER_50M, 4)]
DELEGATION_KINDS = ["Footwear Importers", "Sporting Goods Buyers", "Shoe Retailers", "Leather Goods Traders",
                    "Footwear Wholesalers", "Children's Footwear Buyers", "Shoe Materials Buyers"]
DELEGATION_ORGS = ["Chamber of Commerce", "Footwear Association", "Retailers Union", "Importers Association",
                   "Sporting Goods Federation", "Trade Promotion Agency"]
HOTELS = ["晋江万达嘉华酒店 Wanda Realm Jinjiang", "晋江宝龙福朋喜来登 Four Points by Sheraton Jinjiang",
          "晋江佰翔世纪酒店 Jinjiang Baixiang Century Hotel", "泉州万达文华酒店 Wanda Vista Quanzhou",
          "晋江爱乐酒店 Jinjiang Aile Hotel"]
AIRLINES = ["MF", "CZ", "FM", "SU", "VN", "TK", "EK", "SQ", "CX", "QR"]
# The fixed delegations of the demo sign-ins: (leader e-mail, name, country, organization, members' names).
FIXED_DELEGATIONS = [
    ("leader@expo.test", "Russian Footwear Retailers Delegation", "RU", "Russian Union of Footwear Retailers",
     [("Ivan Petrov", "Иван Петров")]),
    ("leader2@expo.test", "Vietnam Leather and Footwear Buyers Delegation", "VN",
     "Vietnam Leather, Footwear and Handbag Association", [("Nguyen Van An", "Nguyễn Văn An")]),
]
FIXED_MEMBERS = (6, 4)  # at least this many members in delegations 1 and 2
DEMO_BUYER_EMAIL = "buyer@expo.test"

STATUS_WEIGHTS = [(ApplicationStatus.DRAFT, 8), (ApplicationStatus.SUBMITTED, 35), (ApplicationStatus.APPROVED, 40),
                  (ApplicationStatus.WAITLISTED, 7), (ApplicationStatus.REJECTED, 5), (ApplicationStatus.WITHDRAWN, 5)]

DEMO_ACCOUNTS = [  # (email, name, role)
    ("admin@expo.test", "Organizer Admin 组委会管理员", Role.ADMIN),
    ("staff@expo.test", "陈静 Chen Jing", Role.STAFF),
    ("gate@expo.test", "Gate 3 入口", Role.GATE),
    ("printdesk@expo.test", "Print desk 制证处", Role.PRINT_DESK),
    ("leader@expo.test", "Ivan Petrov", Role.DELEGATION_LEADER),
    ("leader2@expo.test", "Nguyen Van An", Role.DELEGATION_LEADER),
    ("buyer@expo.test", "Maria Santos", Role.BUYER),
]
DEMO_EXHIBITOR_EMAIL = "exhibitor@expo.test"


class DatabaseNotEmpty(RuntimeError):
    pass


@dataclass
class Summary:
    exhibitors: int
    buyers: int
    buyer_countries: int
    staff: int
    pavilions: int
    booth_capacity: int
    delegations: int = 0


def holds_data() -> bool:
    """True when any table of ours has a row (the demo refuses to mix into real data)."""
    names = set(inspect(db.engine).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name in names and db.session.execute(select(func.count()).select_from(table)).scalar():
            return True
    return False


def wipe() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())


def load(*, exhibitors: int = 1000, buyers: int = 3000, force: bool = False, hall_capacity: int | None = None,
         progress: Callable[[int], None] | None = None, today: date | None = None,
         delegations: int | None = None, checkpoints: bool = False, docking: bool = False) -> Summary:
    """Fill an empty database with a demo expo. ``force`` wipes what is there first. The caller commits.

    ``delegations`` buyer delegations (default ``max(2, buyers // 100)``) take about 40 % of the buyers as members.
    ``checkpoints``: the gate's checkpoints too (:data:`CHECKPOINTS`; ``flask demo`` loads them, the tests' small
    demo does not: gate tests make their own).
    ``docking``: supply-demand docking too — offers, needs, sessions, meetings with a schedule and the first
    session's outcomes (:mod:`expo.docking.demo`; ``flask demo`` loads it).
    """
    if holds_data():
        if not force:
            raise DatabaseNotEmpty("the database already holds data")
        wipe()
    rng = random.Random(SEED)
    today = today or date(2026, 11, 22)
    tick = progress or (lambda n: None)
    password_hash = hash_password(DEMO_PASSWORD)

    expo = Expo(code="JJFE2027", name_zh="第二十七届中国（晋江）国际鞋业暨第十届国际体育产业博览会",
                name_en="27th China (Jinjiang) International Footwear Expo & 10th International Sporting Goods Expo",
                starts_on=date(2027, 4, 19), ends_on=date(2027, 4, 22), venue_zh="晋江国际会展中心",
                venue_en="Jinjiang International Exhibition Center", city_zh="福建晋江", city_en="Jinjiang, Fujian",
                area_m2=60000, organizer_zh="中国（晋江）国际鞋业博览会组委会",
                organizer_en="Organizing Committee of the China (Jinjiang) International Footwear Expo",
                organizer_address_zh="福建省晋江市世纪大道 1 号晋江国际会展中心",
                organizer_address_en="Jinjiang International Exhibition Center, 1 Century Avenue, Jinjiang, Fujian, China",
                organizer_phone="+86 595 8566 0000", organizer_email="invitation@jjfe.example.cn",
                letter_signatory="Lin Zhiming 林志明, Secretary General 秘书长")
    db.session.add(expo)
    db.session.flush()

    cats = {}
    for sort, (code, zh, en, parent) in enumerate(CATEGORIES):
        c = ProductCategory(code=code, name_zh=zh, name_en=en, parent=cats.get(parent), sort=sort)
        db.session.add(c)
        cats[code] = c
    areas = {}
    for sort, (code, zh, en, _cats) in enumerate(AREAS):
        areas[code] = ExhibitionArea(expo=expo, code=code, name_zh=zh, name_en=en, sort=sort)
    pavilions = {}
    for sort, (code, area, zh, en, colour) in enumerate(PAVILIONS):
        pavilions[code] = Pavilion(expo=expo, area=areas[area], code=code, name_zh=zh, name_en=en, colour=colour,
                                   sort=sort)
    for code, cats_of in PAVILION_CATEGORIES.items():
        pavilions[code].categories = [cats[c] for c in cats_of]
    halls = []
    for i, (code, zh, en, w, d, cap) in enumerate(HALLS):
        halls.append(Hall(
            expo=expo, code=code, name_zh=zh, name_en=en, width_m=w, depth_m=d,
            standard_booth_capacity=hall_capacity or cap,
            plan_x_m=(i // 2) * (w + 20), plan_y_m=(i % 2) * (d + 20),
            entrances=[{"name": "West gate", "side": "W", "offset_m": 35, "width_m": 10},
                       {"name": "East gate", "side": "E", "offset_m": 35, "width_m": 10}],
            obstacles=[{"label": "column", "x_m": x, "y_m": y, "width_m": 1, "depth_m": 1}
                       for x in (31.5, 62.5, 93.5) for y in (26.5, 52.5)]))
    db.session.add_all([*areas.values(), *pavilions.values(), *halls])
    db.session.flush()
    for hall in halls:
        _lay_out_hall(hall, [pavilions[c] for c in HALL_PAVILIONS[hall.code]])
    pavilions_by_area: dict[str, list[Pavilion]] = {}
    for p in pavilions.values():
        pavilions_by_area.setdefault(p.area.code, []).append(p)
    tick(1)

    accounts = [dict(email=e, name=n, role=str(r), password_hash=password_hash, locale=None, active=True)
                for e, n, r in DEMO_ACCOUNTS]
    db.session.execute(insert(User), accounts)

    first_id = (db.session.scalar(select(func.max(Exhibitor.id))) or 0) + 1
    ex_rows, app_rows, user_rows, staff_rows, cat_rows, audit_rows = [], [], [], [], [], []
    used_names: set[str] = set()
    statuses = [s for s, _w in STATUS_WEIGHTS]
    weights = [w for _s, w in STATUS_WEIGHTS]
    foreign_weights = [w for _c, _s, w in FOREIGN]
    created0 = datetime(2026, 6, 1, 9, 0)
    for i in range(exhibitors):
        ex_id = first_id + i
        foreign = rng.random() < 0.16
        trade_zh, trade_en, area_code, trade_cats = rng.choice(TRADES)
        if foreign:
            country, suffix, _w = rng.choices(FOREIGN, weights=foreign_weights)[0]
            if country in ("TW", "HK"):
                zh_base, en_base = rng.choice(TW_NAMES)
                name_zh = f"{zh_base}{trade_zh}{'股份' if country == 'TW' else ''}有限公司"
                name_en = f"{en_base} {trade_en} {suffix}"
            else:
                name_zh = None
                name_en = f"{rng.choice(FOREIGN_WORDS)} {rng.choice(FOREIGN_TRADES)} {suffix}"
            province, city = "", ""
            contact = f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}"
            phone = f"+{rng.randint(30, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
        else:
            country = "CN"
            city_zh, city_en, prov_zh, prov_en = rng.choice(CITIES)
            brand_zh, brand_en = rng.choice(BRANDS)
            ltd_zh, ltd_en = rng.choice([("有限公司", "Co., Ltd."), ("股份有限公司", "Co., Ltd."),
                                         ("实业有限公司", "Industrial Co., Ltd.")])
            name_zh = f"{city_zh}{brand_zh}{trade_zh}{ltd_zh}"
            name_en = f"{city_en} {brand_en} {trade_en} {ltd_en}"
            province, city = prov_zh, city_zh
            sur, giv = rng.choice(SURNAMES), rng.choice(GIVEN)
            contact = sur[0] + giv[0]
            phone = f"+86 1{rng.randint(30, 89)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        key = name_zh or name_en
        n = 2
        while key in used_names:  # same generated name twice: a second company of that name in another town
            key = f"{name_zh or name_en} ({n})"
            n += 1
        if key != (name_zh or name_en):
            suffix_n = key[key.rfind("("):]
            name_zh = f"{name_zh}{suffix_n}" if name_zh else None
            name_en = f"{name_en} {suffix_n}"
        used_names.add(key)
        created = created0 + timedelta(minutes=rng.randint(0, 60 * 24 * 140))
        slug = f"ex{ex_id:06d}"
        ex_rows.append(dict(
            id=ex_id, name_zh=name_zh, name_en=name_en, country=country, province=province, city=city,
            address=f"{rng.randint(1, 999)} {'工业区' if country == 'CN' else 'Industrial Road'}",
            website=f"https://www.{slug}.example.com", contact_name=contact, contact_phone=phone,
            contact_email=f"sales@{slug}.example.com",
            description=f"{trade_en}: OEM/ODM, monthly capacity {rng.randint(2, 80) * 10000} pairs.",
            created_at=created, updated_at=created))
        user_rows.append(dict(email=f"{slug}@expo.test", name=contact, role=str(Role.EXHIBITOR),
                              password_hash=password_hash, exhibitor_id=ex_id, active=True,
                              locale="zh" if country in ("CN", "TW", "HK") else "en"))
        for code in rng.sample(trade_cats, k=rng.randint(1, len(trade_cats))):
            cat_rows.append(dict(exhibitor_id=ex_id, category_id=cats[code].id))
        status = rng.choices(statuses, weights=weights)[0]
        pav = rng.choice(pavilions_by_area[area_code]) if rng.random() < 0.8 else None
        raw = rng.random() < 0.05
        submitted = created + timedelta(hours=rng.randint(1, 240)) if status != ApplicationStatus.DRAFT else None
        decided = submitted + timedelta(days=rng.randint(1, 20)) if status in (
            ApplicationStatus.APPROVED, ApplicationStatus.WAITLISTED, ApplicationStatus.REJECTED) else None
        app_rows.append(dict(
            expo_id=expo.id, exhibitor_id=ex_id, status=str(status), space_kind="raw" if raw else "standard",
            booths_requested=0 if raw else rng.choices([1, 2, 3, 4, 6, 8, 12], weights=[40, 25, 10, 10, 7, 5, 3])[0],
            raw_space_m2=rng.choice([36, 54, 72, 108, 144]) if raw else 0,
            preferred_area_id=areas[area_code].id, preferred_pavilion_id=pav.id if pav else None,
            corner_preference=str(rng.choices(list(CornerPreference), weights=[70, 25, 5])[0]),
            years_exhibited=rng.choices(range(0, 26), weights=[30] + [5] * 25)[0],
            competitors="", notes="", submitted_at=submitted, decided_at=decided,
            decision_reason="展位已满 / Hall is full" if status == ApplicationStatus.REJECTED else "",
            created_at=created, updated_at=decided or submitted or created))
        for _ in range(rng.randint(1, 4)):
            if country == "CN" or country in ("TW", "HK"):
                s, g = rng.choice(SURNAMES), rng.choice(GIVEN)
                person = s[0] + g[0]
                title = rng.choice(TITLES)[0]
            else:
                person = f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}"
                title = rng.choice(TITLES)[1]
            staff_rows.append(dict(exhibitor_id=ex_id, name=person, title=title,
                                   phone=f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} "
                                         f"{rng.randint(1000, 9999)}", email="", id_number="",
                                   created_at=created, updated_at=created))
        audit_rows.append(dict(at=created, actor_id=None, action="registered", object_type="Exhibitor",
                               object_id=ex_id, exhibitor_id=ex_id, changes={"source": "demo"}))
        if submitted:
            audit_rows.append(dict(at=submitted, actor_id=None, action="application_submit",
                                   object_type="SpaceApplication", object_id=None, exhibitor_id=ex_id,
                                   changes={"status": ["draft", "submitted"]}))
        if len(ex_rows) >= 2000:
            _flush_batch(ex_rows, user_rows, cat_rows, app_rows, staff_rows, audit_rows)
            tick(2000)
    _flush_batch(ex_rows, user_rows, cat_rows, app_rows, staff_rows, audit_rows)
    tick(len(ex_rows))
    if db.engine.dialect.name == "postgresql":  # explicit ids do not move the sequence on their own
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('exhibitors', 'id'), "
                                "(SELECT max(id) FROM exhibitors))"))

    # The demo exhibitor account signs in to the first exhibitor: a draft to try the whole journey on.
    first = db.session.get(Exhibitor, first_id)
    db.session.execute(
        insert(User), [dict(email=DEMO_EXHIBITOR_EMAIL, name=first.contact_name, role=str(Role.EXHIBITOR),
                            password_hash=password_hash, exhibitor_id=first_id, active=True, locale=None)])
    demo_app = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == first_id))
    demo_app.status, demo_app.submitted_at, demo_app.decided_at = ApplicationStatus.DRAFT, None, None

    _assign_demo_booths(expo, rng)

    buyer_countries, n_delegations = _load_buyers(expo, cats, rng, buyers, delegations, password_hash, created0,
                                                  tick)
    if checkpoints:
        load_checkpoints(expo)
    if docking:
        from expo.docking import demo as docking_demo

        docking_demo.load(expo, rng, demo_buyer_email=DEMO_BUYER_EMAIL, demo_exhibitor_id=first_id)
    return Summary(exhibitors=exhibitors, buyers=buyers, buyer_countries=buyer_countries,
                   staff=db.session.scalar(select(func.count(ExhibitorStaff.id))) or 0,
                   pavilions=len(PAVILIONS), booth_capacity=sum(h.standard_booth_capacity for h in halls),
                   delegations=n_delegations)


def _load_buyers(expo: Expo, cats: dict[str, ProductCategory], rng: random.Random, buyers: int,
                 delegations: int | None, password_hash: str, created0: datetime,
                 tick: Callable[[int], None]) -> tuple[int, int]:
    """Buyers, delegations with their leaders' accounts, members' passports. Returns (countries, delegations).

    Explicit ids (so that categories and passports can be inserted beside their buyers in Core batches); the
    PostgreSQL sequences are moved past them at the end.
    """
    n_del = max(2, buyers // 100) if delegations is None else max(0, delegations)
    # Delegation 1 and 2 belong to the demo's leader sign-ins; the others get a leader account each.
    accounts = dict(db.session.execute(select(User.email, User.id).where(
        User.email.in_([e for e, _n, _r in DEMO_ACCOUNTS]))).all())
    leader_rows = [dict(email=f"leader{d:06d}@delegations.example.com",
                        name=f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}", role=str(Role.DELEGATION_LEADER),
                        password_hash=password_hash, active=True, locale=None)
                   for d in range(len(FIXED_DELEGATIONS) + 1, n_del + 1)]
    for start in range(0, len(leader_rows), 5000):
        db.session.execute(insert(User), leader_rows[start:start + 5000])
    leaders = dict(db.session.execute(select(User.email, User.id).where(
        User.email.like("leader%@delegations.example.com"))).all())

    product_codes = [code for code, _zh, _en, parent in CATEGORIES if parent and not code.startswith("machinery")]
    all_codes = [code for code, *_x in CATEGORIES]
    first_del = (db.session.scalar(select(func.max(Delegation.id))) or 0) + 1
    del_rows, del_cat_rows, del_country = [], [], {}
    used_names: set[str] = set()
    for d in range(n_del):
        del_id = first_del + d
        if d < len(FIXED_DELEGATIONS):
            email, name, country, organization, _names = FIXED_DELEGATIONS[d]
            leader_id = accounts.get(email)
        else:
            country = rng.choice(BUYER_COUNTRIES)
            cname = BUYER_COUNTRY_INFO[country][0]
            name = f"{cname} {rng.choice(DELEGATION_KINDS)} Delegation"
            organization = f"{cname} {rng.choice(DELEGATION_ORGS)}"
            leader_id = leaders.get(f"leader{d + 1:06d}@delegations.example.com")
        base, n = name, 2
        while name in used_names:
            name = f"{base} ({n})"
            n += 1
        used_names.add(name)
        scheduled = d < len(FIXED_DELEGATIONS) or rng.random() < 0.92  # a few have not booked their travel yet
        arrival = date(2027, 4, 17) + timedelta(days=rng.randint(0, 2)) if scheduled else None
        departure = date(2027, 4, 21) + timedelta(days=rng.randint(0, 2)) if scheduled else None
        interpreter = rng.random() < 0.6 and BUYER_COUNTRY_INFO[country][2] != "English"
        created = created0 + timedelta(days=rng.randint(10, 150), minutes=rng.randint(0, 600))
        del_rows.append(dict(
            id=del_id, expo_id=expo.id, name=name, country=country, organization=organization,
            leader_user_id=leader_id, arrival_date=arrival, departure_date=departure,
            arrival_flight=f"{rng.choice(AIRLINES)} {rng.randint(100, 999)}" if scheduled else "",
            departure_flight=f"{rng.choice(AIRLINES)} {rng.randint(100, 999)}" if scheduled else "",
            hotel=rng.choice(HOTELS) if scheduled else "", interpreter_needed=interpreter,
            interpreter_language=BUYER_COUNTRY_INFO[country][2] if interpreter else "", notes="",
            created_at=created, updated_at=created))
        for code in rng.sample(product_codes, k=rng.randint(1, 3)):
            del_cat_rows.append(dict(delegation_id=del_id, category_id=cats[code].id))
        del_country[del_id] = country
    if del_rows:
        db.session.execute(insert(Delegation), del_rows)
        db.session.execute(insert(delegation_categories), del_cat_rows)

    # Which buyers travel in which delegation: about 40 %, the fixed delegations with enough members to show.
    # Buyer 0 is the demo buyer sign-in, on their own.
    needed = sum(FIXED_MEMBERS[:min(n_del, len(FIXED_MEMBERS))])
    n_members = min(max(0, buyers - 1), max(round(buyers * 0.4), needed)) if n_del else 0
    slots = [first_del + d for d in range(min(n_del, len(FIXED_MEMBERS))) for _ in range(FIXED_MEMBERS[d])]
    sizes = [rng.uniform(0.3, 1.7) for _ in range(n_del)]  # delegations differ in size
    if n_members > len(slots):
        slots += rng.choices([first_del + d for d in range(n_del)], weights=sizes, k=n_members - len(slots))
    slots = slots[:n_members]
    member_of: dict[int, int] = dict(zip(sorted(rng.sample(range(1, buyers), n_members)) if n_members else [],
                                         slots, strict=True))
    first_of: dict[int, int] = {}  # delegation id → its first member's index (the fixed delegations' leaders)
    for i, del_id in member_of.items():
        first_of.setdefault(del_id, i)
    fixed_first = {first_of.get(first_del + d): FIXED_DELEGATIONS[d][4][0] for d in range(len(FIXED_DELEGATIONS))}

    first_id = (db.session.scalar(select(func.max(Buyer.id))) or 0) + 1
    demo_buyer_user = accounts.get(DEMO_BUYER_EMAIL)
    volumes = [str(v) for v, _w in VOLUME_WEIGHTS]
    volume_weights = [w for _v, w in VOLUME_WEIGHTS]
    solo_countries = [c for c in BUYER_COUNTRIES if c not in set(del_country.values())] or BUYER_COUNTRIES
    buyer_rows, cat_rows, passport_rows = [], [], []
    countries: set[str] = set()
    solo = 0
    for i in range(buyers):
        buyer_id = first_id + i
        del_id = member_of.get(i)
        if i == 0:
            country = "BR"
        elif del_id is not None:
            country = del_country[del_id]
        else:  # the first ones cover every country, then any
            country = solo_countries[solo] if solo < len(solo_countries) else rng.choice(BUYER_COUNTRIES)
            solo += 1
        countries.add(country)
        native = ""
        if i == 0:
            name = "Maria Santos"
        elif i in fixed_first:
            name, native = fixed_first[i]
        elif country in NATIVE_NAMES:
            name, native = _native_name(rng, NATIVE_NAMES[country])
        elif country in CHINESE_DIASPORA and rng.random() < 0.25:
            (sur_zh, sur_en), (giv_zh, giv_en) = rng.choice(SURNAMES), rng.choice(GIVEN)
            name, native = f"{giv_en} {sur_en}", sur_zh + giv_zh
        else:
            name = f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}"
        company = f"{rng.choice(FOREIGN_WORDS)} {rng.choice(BUYER_COMPANY_KINDS)}"
        codes = rng.sample(product_codes, k=rng.randint(1, 3))
        if rng.random() < 0.03:  # a few buy machines or materials for their own factories
            codes[-1] = rng.choice(all_codes)
            codes = list(dict.fromkeys(codes))
        status, invited_at = str(BuyerStatus.REGISTERED), None
        hosted, nights, transfers, decided, note = str(HostedStatus.NONE), 0, False, None, ""
        created = created0 + timedelta(days=rng.randint(0, 170), minutes=rng.randint(0, 1440))
        roll = rng.random()
        if del_id is None and i != 0 and roll < 0.03:
            status, invited_at = str(BuyerStatus.INVITED), created
        elif del_id is None and i != 0 and roll < 0.04:
            status = str(BuyerStatus.CANCELLED)
        elif i != 0:
            roll = rng.random()
            if roll < 0.05:
                hosted, nights, transfers = str(HostedStatus.APPROVED), 3, True
                decided = created + timedelta(days=rng.randint(2, 20))
                note = "3 nights, airport transfers"
            elif roll < 0.07:
                hosted, decided = str(HostedStatus.DECLINED), created + timedelta(days=rng.randint(2, 20))
                note = "Programme full for this market"
            elif roll < 0.17:
                hosted = str(HostedStatus.APPLIED)
        dial = BUYER_COUNTRY_INFO[country][1]
        buyer_rows.append(dict(
            id=buyer_id, expo_id=expo.id, user_id=demo_buyer_user if i == 0 else None, delegation_id=del_id,
            name=name, name_native=native, company=company, country=country,
            email=DEMO_BUYER_EMAIL if i == 0 else f"buyer{i:06d}@buyers.example.com", phone=f"+{dial} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            f"{rng.randint(100, 999)}", job_title=rng.choice(BUYER_TITLES),
            website=f"https://www.b{i:06d}.example.com" if rng.random() < 0.5 else "",
            purchase_volume=rng.choices(volumes, weights=volume_weights)[0],
            products_sought=", ".join(cats[c].name_en for c in codes)
            + f"; about {rng.randint(1, 50) * 1000:,} pairs a season",
            contact_consent=i == 0 or rng.random() < 0.7, status=status, invited_at=invited_at,
            hosted_status=hosted, hosted_hotel_nights=nights, hosted_transfers=transfers, hosted_note=note,
            hosted_decided_at=decided, created_at=created, updated_at=decided or created))
        cat_rows.extend(dict(buyer_id=buyer_id, category_id=cats[c].id) for c in codes)
        if del_id is not None or i == 0:  # every member (and the demo buyer) has a passport for the visa letter
            passport_rows.append(dict(
                buyer_id=buyer_id, nationality=country,
                number=f"{chr(65 + rng.randint(0, 25))}{chr(65 + rng.randint(0, 25))}{rng.randint(1000000, 9999999)}",
                expires_on=date(2028, 1, 1) + timedelta(days=rng.randint(0, 365 * 8)),
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 40))))
        if len(buyer_rows) >= 5000:
            _flush_buyers(buyer_rows, cat_rows, passport_rows)
            tick(5000)
    tick(len(buyer_rows))
    _flush_buyers(buyer_rows, cat_rows, passport_rows)
    if db.engine.dialect.name == "postgresql":  # explicit ids do not move the sequences on their own
        for table in ("buyers", "delegations"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
    return len(countries), n_del


# The gate's checkpoints, so that gate@expo.test can scan at once: (code, zh, en, kind, hall or room code, mode).
# Entrances and the hall door: entry and exit, re-entry allowed, everyone checked out at 18:00.
CHECKPOINTS = [
    ("W1", "西门", "West gate", "entrance", "", "entry_exit"),
    ("E1", "东门", "East gate", "entrance", "", "entry_exit"),
    (HALLS[0][0], f"{HALLS[0][1]}入口", f"{HALLS[0][2]} door", "hall", HALLS[0][0], "entry_exit"),
    ("R1", "洽谈室 R1", "Docking room R1", "room", "R1", "entry"),
]


def load_checkpoints(expo: Expo) -> list:
    """The demo's checkpoints (:data:`CHECKPOINTS`) at ``expo``; every badge type, every day."""
    from datetime import time

    from expo.checkin.models import Checkpoint

    rows = [Checkpoint(expo_id=expo.id, code=code, name_zh=zh, name_en=en, kind=kind, hall_code=hall_code,
                       badge_type_ids=[], days=[], mode=mode, reentry=True, auto_checkout_at=time(18, 0),
                       active=True) for code, zh, en, kind, hall_code, mode in CHECKPOINTS]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _native_name(rng: random.Random, groups: list[tuple]) -> tuple[str, str]:
    """A (Latin, native script) name from one of a country's name groups."""
    givens, families, latin_family_first, native_family_first, sep = rng.choice(groups)
    (given, given_native), (family, family_native) = rng.choice(givens), rng.choice(families)
    latin = f"{family} {given}" if latin_family_first else f"{given} {family}"
    native = family_native + sep + given_native if native_family_first else given_native + sep + family_native
    return latin, native


def _flush_buyers(*batches: list[dict]) -> None:
    buyer_rows, cat_rows, passport_rows = batches
    if buyer_rows:
        db.session.execute(insert(Buyer.__table__), buyer_rows)
        db.session.execute(insert(buyer_categories), cat_rows)
    if passport_rows:
        db.session.execute(insert(Passport.__table__), passport_rows)
    for batch in batches:
        batch.clear()


def _assign_demo_booths(expo: Expo, rng: random.Random) -> None:
    """Give most approved exhibitors booths in their preferred pavilion (consecutive numbers, which the generator
    lays out side by side), so the plans show names; the rest are left to the automatic allocation."""
    from expo.venue.models import Booth, BoothStatus

    free: dict[tuple[int | None, bool], list[Booth]] = {}
    for b in db.session.scalars(select(Booth).where(Booth.expo_id == expo.id).order_by(Booth.id)):
        free.setdefault((b.pavilion_id, b.raw_space), []).append(b)
    approved = db.session.scalars(select(SpaceApplication).where(
        SpaceApplication.expo_id == expo.id, SpaceApplication.status == ApplicationStatus.APPROVED,
        SpaceApplication.preferred_pavilion_id.is_not(None)).order_by(SpaceApplication.id))
    for application in approved:
        if rng.random() < 0.3:
            continue
        raw = application.space_kind == "raw"
        pool = free.get((application.preferred_pavilion_id, raw), [])
        wanted = 1 if raw else application.booths_requested
        if len(pool) >= wanted:
            for booth in pool[:wanted]:
                booth.status, booth.exhibitor_id = BoothStatus.ASSIGNED, application.exhibitor_id
            del pool[:wanted]
            application.payment_status = rng.choice(["unpaid", "invoiced", "partial", "paid", "paid"])
    db.session.flush()


def _lay_out_hall(hall: Hall, pavilions: list[Pavilion]) -> None:
    """Bands of double-row blocks for each pavilion, north to south; raw-space lots at the south of a machinery
    hall. 6 m perimeter aisles, 3 m aisles."""
    from expo.venue import services as venue_services
    from expo.venue.geometry import Rect
    from expo.venue.layout import BlockLayout

    raw_lots = hall.code.startswith("C")
    top, bottom = 6.0, float(hall.depth_m) - 6.0
    if raw_lots:
        lots = BlockLayout(Rect(6, bottom - 12, float(hall.width_m) - 12, 12), prefix=f"{hall.code}-R", digits=2,
                           booth_width_m=9, booth_depth_m=6, booths_per_row=2, cross_aisle_m=4,
                           max_booths=max(2, hall.standard_booth_capacity // 20))
        venue_services.generate(None, hall, lots, pavilion=pavilions[-1],
                                price_cny=9 * 6 * RAW_SPACE_PRICE_CNY_PER_M2, raw_space=True)
        bottom -= 15
    share = hall.standard_booth_capacity // len(pavilions)
    band = (bottom - top) / len(pavilions)
    number = 1
    for i, pavilion in enumerate(pavilions):
        region = Rect(6, round(top + i * band, 2), float(hall.width_m) - 12, round(band, 2))
        spec = BlockLayout(region, prefix=f"{hall.code}-", first_number=number, max_booths=share)
        number += len(venue_services.generate(None, hall, spec, pavilion=pavilion,
                                              price_cny=STANDARD_BOOTH_PRICE_CNY))


def _flush_batch(*batches: list[dict]) -> None:
    # Core inserts into the tables, not ORM bulk inserts: the ORM leaves out the keys whose value is None and starts
    # a new INSERT each time the set of keys changes from one row to the next (a foreign company without a Chinese
    # name, a draft without a submission date), which made ~80,000 statements out of 30,000 exhibitors.
    ex_rows, user_rows, cat_rows, app_rows, staff_rows, audit_rows = batches
    if ex_rows:
        db.session.execute(insert(Exhibitor.__table__), ex_rows)
        db.session.execute(insert(User.__table__), user_rows)
        db.session.execute(insert(exhibitor_categories), cat_rows)
        db.session.execute(insert(SpaceApplication.__table__), app_rows)
        db.session.execute(insert(ExhibitorStaff.__table__), staff_rows)
        db.session.execute(insert(AuditEntry.__table__), audit_rows)
    for batch in batches:
        batch.clear()
