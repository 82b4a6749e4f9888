"""Word lists and small generators for the sample site's invented names, people and numbers.

Every name is built from the lists below, so none is a real brand, company or person. Each
generator takes the caller's ``random.Random`` and a set of names already used, so a whole site
comes out unique and the same for the same seed.
"""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "霞", "平", "刚", "丹", "鑫", "斌", "宇", "婷", "秀英", "桂英", "建华", "志强",
    "海燕", "欣怡", "子轩", "浩然", "晓东", "雪梅", "国庆", "春生", "玉兰", "文博", "思远",
    "佳怡", "俊杰", "红梅", "立新", "建国", "美玲", "雨桐", "梓涵", "晨阳", "家豪", "丽华",
)  # fmt: skip
CITIES = ("深圳市", "广州市", "东莞市", "佛山市", "惠州市", "中山市", "珠海市")

# Stalls in the basement food street: "<surname>记<food>" or "<word><food>".
STALL_WORDS = ("老街", "阿婆", "小胖", "好运", "福满", "鲜味", "巷口", "乡里", "一口", "甜心")
STALL_FOODS = (
    "小吃", "凉皮", "煎饼", "奶茶", "鲜果", "卤味", "烧饼", "炸串", "肠粉", "豆花", "汤包",
    "烤冷面", "鸡排", "糖水", "馄饨", "锅盔", "米粉", "饭团", "生煎", "酸辣粉",
)  # fmt: skip

SHOP_WORDS = (
    "优品", "星辰", "悦享", "潮流", "雅致", "锦绣", "金鼎", "美佳", "恒源", "鑫隆", "佳禾",
    "新概念", "简约", "意尚", "鸿运", "东方", "蓝海", "绿野", "晨光", "瑞丰", "华彩", "丽人",
    "童趣", "乐活", "君悦", "天韵", "云裳", "宏达", "和美", "福瑞", "盛世", "一品", "聚宝",
    "百合", "博雅", "尚品", "青禾", "木棉", "星河", "初见",
)  # fmt: skip
# What the shops on each mall floor sell, by floor name.
SHOP_TRADES = {
    "1F": ("珠宝", "钟表行", "美妆", "眼镜", "饰品", "皮具", "香氛", "名表"),
    "2F": ("服饰", "女装", "时装", "内衣", "鞋业", "丝巾", "旗袍", "衣橱"),
    "3F": ("男装", "服饰", "运动", "户外", "箱包", "鞋业", "牛仔", "衬衫"),
    "4F": ("童装", "玩具", "母婴", "家居", "家纺", "文具", "书店", "厨具"),
    "5F": ("数码", "通讯", "电器", "影音", "电玩", "健身", "美发", "花艺", "茶行", "乐器"),
}
LOBBY_TRADES = ("咖啡", "便利店", "轻食", "面包坊", "花店", "打印社", "药房", "茶饮")

RESTAURANT_WORDS = (
    "川味", "湘里", "粤港", "江南", "巴蜀", "东北", "西北", "滇味", "潮汕", "蜀香", "渝味",
    "津门", "徽州", "客家", "西域", "台式", "日式", "韩式", "泰式", "老城", "渔家", "山野",
)  # fmt: skip
RESTAURANT_KINDS = (
    "小馆", "人家", "食府", "面馆", "火锅", "烤鱼", "茶餐厅", "私房菜", "酒楼", "烧烤",
    "粥铺", "饺子馆", "米线", "牛肉面", "烤肉", "料理", "串串香", "砂锅", "蒸菜馆", "石锅",
)  # fmt: skip

OFFICE_WORDS = (
    "博远", "华信", "中恒", "启明", "远航", "卓越", "汇通", "联创", "恒泰", "正源", "思创",
    "金桥", "天成", "瑞达", "宏图", "精诚", "德信", "安达", "智汇", "鼎盛", "普惠", "凯瑞",
    "明德", "致远", "信达", "盛华", "易联", "同创", "众合", "新锐", "海纳", "云帆", "泰和",
    "国瑞", "嘉诚", "拓维",
)  # fmt: skip
OFFICE_TRADES = (
    "科技", "咨询", "贸易", "设计", "传媒", "教育", "网络", "投资", "物流", "建筑", "医疗",
    "广告", "软件", "文化", "人力资源", "保险代理", "律师事务所", "会计师事务所",
)  # fmt: skip

# Mobile number prefixes in use (the first three digits).
MOBILE_PREFIXES = (
    *range(130, 140),
    *range(150, 154),
    *range(155, 160),
    166,
    *range(176, 179),
    *range(180, 190),
    191,
    198,
    199,
)


def _unique(rng: random.Random, used: set[str], make) -> str:
    for _ in range(10_000):
        name = make()
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("the word lists ran out of unique names")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def mobile(rng: random.Random, used: set[str]) -> str:
    return _unique(rng, used, lambda: f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}")


def stall_name(rng: random.Random, used: set[str], owner_surname: str | None) -> str:
    def make() -> str:
        if owner_surname and rng.random() < 0.6:
            return f"{owner_surname}记{rng.choice(STALL_FOODS)}"
        return rng.choice(STALL_WORDS) + rng.choice(STALL_FOODS)

    return _unique(rng, used, make)


def shop_name(rng: random.Random, used: set[str], trades: tuple[str, ...]) -> str:
    return _unique(rng, used, lambda: rng.choice(SHOP_WORDS) + rng.choice(trades))


def restaurant_name(rng: random.Random, used: set[str]) -> str:
    return _unique(rng, used, lambda: rng.choice(RESTAURANT_WORDS) + rng.choice(RESTAURANT_KINDS))


def office_name(rng: random.Random, used: set[str]) -> str:
    return _unique(rng, used, lambda: rng.choice(OFFICE_WORDS) + rng.choice(OFFICE_TRADES))


def company_name(rng: random.Random, used: set[str], trade_name: str, *, catering: bool) -> str:
    """The registered name of the company behind a shop, restaurant or office."""

    def make() -> str:
        city = rng.choice(CITIES)
        if trade_name.endswith("事务所"):
            return f"广东{trade_name}"
        if catering:
            return f"{city}{trade_name}餐饮管理有限公司"
        suffix = rng.choice(("有限公司", "有限公司", "商贸有限公司"))
        return f"{city}{trade_name}{suffix}"

    return _unique(rng, used, make)
