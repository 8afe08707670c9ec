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
from expo.buyers.models import Buyer
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

STATUS_WEIGHTS = [(ApplicationStatus.DRAFT, 8), (ApplicationStatus.SUBMITTED, 35), (ApplicationStatus.APPROVED, 40),
                  (ApplicationStatus.WAITLISTED, 7), (ApplicationStatus.REJECTED, 5), (ApplicationStatus.WITHDRAWN, 5)]

DEMO_ACCOUNTS = [  # (email, name, role)
    ("admin@expo.test", "Organizer Admin 组委会管理员", Role.ADMIN),
    ("staff@expo.test", "陈静 Chen Jing", Role.STAFF),
    ("gate@expo.test", "Gate 3 入口", Role.GATE),
    ("printdesk@expo.test", "Print desk 制证处", Role.PRINT_DESK),
    ("leader@expo.test", "Ivan Petrov", Role.DELEGATION_LEADER),
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
         progress: Callable[[int], None] | None = None, today: date | None = None) -> Summary:
    """Fill an empty database with a demo expo. ``force`` wipes what is there first. The caller commits."""
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

    buyer_rows = []
    for i in range(buyers):
        country = BUYER_COUNTRIES[i % len(BUYER_COUNTRIES)] if i < len(BUYER_COUNTRIES) else rng.choice(BUYER_COUNTRIES)
        person = f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}"
        buyer_rows.append(dict(expo_id=expo.id, name=person, country=country, job_title="Purchasing Manager",
                               company=f"{rng.choice(FOREIGN_WORDS)} {rng.choice(['Trading', 'Retail', 'Imports', 'Sports'])}",
                               email=f"buyer{i:06d}@buyers.example.com"))
        if len(buyer_rows) >= 5000:
            db.session.execute(insert(Buyer), buyer_rows)
            buyer_rows.clear()
    if buyer_rows:
        db.session.execute(insert(Buyer), buyer_rows)
    tick(buyers)
    db.session.flush()
    return Summary(exhibitors=exhibitors, buyers=buyers,
                   buyer_countries=min(buyers, len(BUYER_COUNTRIES)),
                   staff=db.session.scalar(select(func.count(ExhibitorStaff.id))) or 0,
                   pavilions=len(PAVILIONS), booth_capacity=sum(h.standard_booth_capacity for h in halls))


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
