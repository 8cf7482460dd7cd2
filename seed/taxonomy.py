"""The demo taxonomy (CJ/T 214 / GB/T 30428.2 style) and the departments that handle it.

Names follow docs/domain.md §4. Besides the columns of ``categories`` each row carries the *world* parameters the seed
needs: how often the problem arises, how visible it is to each channel, where it arises and what a hiding inspector
would recode it as. Those parameters never reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass

# Major classes: code → (kind, 中文, English). 部件 majors 01–06, 事件 majors 11–18 (codes unique across kinds).
MAJORS: dict[str, tuple[str, str, str]] = {
    "01": ("component", "公用设施", "Public utilities"),
    "02": ("component", "道路交通", "Road traffic facilities"),
    "03": ("component", "市容环境", "City appearance facilities"),
    "04": ("component", "园林绿化", "Landscaping"),
    "05": ("component", "房屋土地", "Buildings and land"),
    "06": ("component", "其他设施", "Other facilities"),
    "11": ("event", "市容环境", "City appearance"),
    "12": ("event", "宣传广告", "Advertising"),
    "13": ("event", "施工管理", "Construction management"),
    "14": ("event", "突发事件", "Emergencies"),
    "15": ("event", "街面秩序", "Street order"),
    "16": ("event", "环境保护", "Environmental protection"),
    "17": ("event", "违法建设", "Illegal construction"),
    "18": ("event", "其他事件", "Other events"),
}

# Departments: code → (中文, English, kind). Street offices (街镇) are added per street by the seed.
DEPARTMENTS: dict[str, tuple[str, str, str]] = {
    "CGZF": ("区城管执法局", "Urban Management Law Enforcement Bureau", "bureau"),
    "LHSR": ("区绿化市容局", "Greening and City Appearance Bureau", "bureau"),
    "JSGL": ("区建设管理委(市政)", "Construction Management Commission (municipal works)", "bureau"),
    "SWJ": ("区水务局", "Water Affairs Bureau", "bureau"),
    "JJZD": ("交警支队", "Traffic Police Detachment", "bureau"),
    "GAFJ": ("公安分局", "Public Security Bureau", "bureau"),
    "SCJG": ("区市场监管局", "Market Regulation Bureau", "bureau"),
    "FGJ": ("区房管局", "Housing Administration Bureau", "bureau"),
    "STHJ": ("区生态环境局", "Ecology and Environment Bureau", "bureau"),
    "GHZY": ("区规划资源局", "Planning and Natural Resources Bureau", "bureau"),
    "JTW": ("区交通委", "Transport Commission", "bureau"),
    "DLGS": ("供电公司", "Power Supply Company", "utility"),
    "RQGS": ("燃气公司", "Gas Company", "utility"),
    "ZLS": ("自来水公司", "Water Supply Company", "utility"),
    "TXYY": ("通信运营商", "Telecom Operators", "utility"),
}
# The department planted with a hard-only case mix and average speed (seed_truth behaviour H1).
HARD_ONLY_DEPARTMENT = "GHZY"
STREET_OFFICE = "STREET"  # category handled by the street office (街镇) of the case's street


@dataclass(frozen=True)
class CategorySpec:
    code: str
    minor_name: str
    minor_name_en: str
    difficulty: str  # simple | complex
    department: str  # DEPARTMENTS key or STREET_OFFICE
    limit_hours: float  # 处置时限 in working hours (8 per working day)
    weight: float  # relative rate at which the problem arises
    patrol: float  # base chance a diligent patrol logs it
    hotline: float  # base chance a resident calls 12345 about it
    app: float  # base chance an app user reports it
    camera: float  # chance a camera detects it where cameras are (0: not camera-visible)
    sensor: float  # chance an IoT sensor raises it where sensors are
    place: str  # urban | rural | industrial | road | any: where it arises more
    season: str  # summer | winter | storm | none
    recode_to: str  # for complex ones: the simple code a hiding inspector files it under

    @property
    def major_code(self) -> str:
        return self.code[:2]

    @property
    def kind(self) -> str:
        return MAJORS[self.major_code][0]


# code | 中文 | English | difficulty | dept | limit h | weight | patrol | hotline | app | camera | sensor | place |
# season | recode_to
_TABLE = """
0101|上水井盖|Water supply manhole cover|simple|ZLS|16|0.5|0.80|0.04|0.01|0|0.2|road|none|
0102|污水井盖|Sewage manhole cover|simple|SWJ|16|0.6|0.80|0.04|0.01|0|0.2|road|none|
0103|雨水井盖|Storm drain cover|simple|SWJ|16|0.6|0.80|0.04|0.01|0|0.2|road|storm|
0104|电力井盖|Power manhole cover|simple|DLGS|16|0.3|0.78|0.03|0.01|0|0.2|road|none|
0105|通信井盖|Telecom manhole cover|simple|TXYY|16|0.4|0.78|0.03|0.01|0|0.2|road|none|
0106|燃气井盖|Gas manhole cover|simple|RQGS|8|0.2|0.78|0.05|0.01|0|0.2|road|none|
0107|井盖缺失|Missing manhole cover|complex|JSGL|8|0.25|0.70|0.35|0.02|0|0.3|road|none|0101
0108|路灯|Street lamp|simple|JSGL|24|1.0|0.75|0.06|0.01|0|0.3|road|winter|
0109|消火栓|Fire hydrant|simple|ZLS|24|0.2|0.75|0.02|0.00|0|0|urban|none|
0110|电力设施|Power facility|simple|DLGS|24|0.25|0.72|0.05|0.00|0|0|any|storm|
0111|通信设施|Telecom facility|simple|TXYY|24|0.3|0.72|0.04|0.00|0|0|any|none|
0112|架空线缆|Overhead cables|complex|TXYY|80|0.2|0.65|0.12|0.01|0|0|urban|none|0111
0201|交通标志牌|Traffic sign|simple|JTW|40|0.3|0.78|0.02|0.00|0|0|road|none|
0202|道路护栏|Road guardrail|simple|JSGL|40|0.35|0.78|0.03|0.00|0.05|0|road|none|
0203|公交站亭|Bus shelter|simple|JTW|40|0.2|0.78|0.02|0.00|0|0|road|none|
0204|交通信号灯|Traffic signal|simple|JJZD|8|0.15|0.70|0.08|0.00|0.1|0|road|none|
0205|隔离墩|Traffic bollard|simple|JSGL|40|0.2|0.78|0.01|0.00|0|0|road|none|
0206|非机动车停放架|Bicycle rack|simple|STREET|40|0.15|0.78|0.01|0.00|0|0|urban|none|
0301|公厕|Public toilet|simple|LHSR|16|0.2|0.75|0.04|0.01|0|0|urban|summer|
0302|垃圾箱|Litter bin|simple|LHSR|8|0.5|0.80|0.02|0.01|0.05|0|urban|none|
0303|广告牌匾|Shop sign|simple|CGZF|40|0.3|0.76|0.02|0.00|0|0|urban|none|
0304|垃圾房|Refuse room|simple|STREET|16|0.3|0.78|0.04|0.01|0|0|urban|summer|
0305|废物箱|Waste container|simple|LHSR|8|0.2|0.80|0.01|0.00|0|0|urban|none|
0401|行道树|Street tree|simple|LHSR|40|0.4|0.76|0.04|0.00|0|0|road|storm|
0402|绿地|Green space|simple|LHSR|40|0.35|0.76|0.02|0.00|0|0|urban|summer|
0403|绿化护栏|Green fence|simple|LHSR|40|0.15|0.76|0.01|0.00|0|0|urban|none|
0404|花坛|Flower bed|simple|LHSR|40|0.1|0.76|0.01|0.00|0|0|urban|none|
0501|危房|Dangerous building|complex|FGJ|120|0.08|0.60|0.25|0.01|0|0|rural|none|0502
0502|房屋外立面|Building facade|simple|FGJ|40|0.15|0.72|0.03|0.00|0|0|urban|none|
0503|空置地块|Vacant lot|simple|CGZF|80|0.1|0.70|0.02|0.00|0|0|rural|none|
0601|健身设施|Fitness equipment|simple|STREET|40|0.15|0.78|0.02|0.00|0|0|urban|none|
0602|监控设施|CCTV equipment|simple|GAFJ|40|0.1|0.72|0.01|0.00|0|0|urban|none|
0603|防汛设施|Flood-control facility|simple|SWJ|16|0.1|0.70|0.02|0.00|0|0.2|any|storm|
1101|暴露垃圾|Exposed garbage|simple|STREET|4|15.0|0.86|0.05|0.03|0.25|0|any|summer|
1102|积存垃圾渣土|Accumulated garbage and muck|simple|STREET|8|4.5|0.84|0.06|0.02|0.10|0|any|summer|
1103|道路不洁|Unclean road|simple|STREET|2|6.5|0.86|0.03|0.01|0.10|0|road|none|
1104|乱堆物堆料|Stacked materials|simple|STREET|16|11.0|0.84|0.05|0.01|0.15|0|any|none|
1105|私搭乱建|Unauthorised shed|complex|CGZF|160|1.2|0.70|0.25|0.02|0|0|any|none|1104
1106|乱涂写|Graffiti|simple|STREET|16|1.5|0.84|0.02|0.03|0|0|urban|none|
1107|乱晾晒|Laundry on public space|simple|STREET|4|1.2|0.84|0.01|0.01|0.05|0|urban|summer|
1108|焚烧垃圾|Garbage burning|simple|STREET|4|0.4|0.78|0.10|0.01|0.05|0|rural|winter|
1109|动物尸体|Animal carcass|simple|LHSR|4|0.3|0.82|0.06|0.01|0|0|any|summer|
1110|河道漂浮物|River floating debris|simple|SWJ|16|1.0|0.78|0.03|0.01|0.10|0|rural|summer|
1111|违规饲养家禽|Poultry kept illegally|simple|STREET|40|0.3|0.75|0.04|0.00|0|0|rural|none|
1112|餐饮油烟|Restaurant fumes|complex|STHJ|80|0.5|0.45|0.40|0.01|0|0|urban|summer|1106
1113|乱倒垃圾|Illegal garbage dumping|simple|STREET|8|1.0|0.82|0.06|0.01|0.15|0|rural|none|
1201|非法小广告|Illegal small ads|simple|STREET|8|9.0|0.86|0.02|0.30|0.05|0|urban|none|
1202|违规户外广告|Illegal outdoor billboard|complex|CGZF|120|0.5|0.68|0.12|0.04|0|0|urban|none|1201
1203|张贴悬挂物|Posted banners|simple|STREET|8|1.5|0.84|0.01|0.04|0|0|urban|none|
1204|散发广告|Leafleting|simple|CGZF|4|0.6|0.80|0.01|0.03|0.05|0|urban|none|
1205|广告设施破损|Damaged ad structure|simple|CGZF|40|0.3|0.76|0.03|0.00|0|0|urban|storm|
1301|施工废弃料|Construction waste|simple|CGZF|16|0.8|0.82|0.06|0.01|0.05|0|industrial|none|
1302|无证掘路|Unlicensed road digging|complex|JSGL|80|0.35|0.66|0.20|0.01|0.05|0|road|none|1301
1303|施工扰民|Construction noise nuisance|complex|CGZF|40|0.8|0.35|0.70|0.02|0|0|urban|summer|1301
1304|工地扬尘|Construction dust|complex|STHJ|40|0.6|0.62|0.25|0.02|0.05|0.2|industrial|winter|1301
1305|道路遗撒|Spillage on road|simple|CGZF|4|0.8|0.82|0.05|0.01|0.15|0|road|none|
1306|渣土偷倒|Illegal muck dumping|complex|CGZF|80|0.3|0.58|0.20|0.01|0.05|0|rural|none|1102
1307|工地围挡|Site hoarding|simple|JSGL|40|0.3|0.80|0.02|0.00|0|0|industrial|none|
1401|路面塌陷|Road collapse|complex|JSGL|16|0.15|0.72|0.45|0.02|0.05|0.1|road|storm|1402
1402|道路破损|Damaged road surface|simple|JSGL|40|1.2|0.80|0.08|0.01|0.05|0|road|none|
1403|水管破裂|Burst water main|complex|ZLS|8|0.15|0.70|0.50|0.02|0|0.3|any|winter|1402
1404|道路积水|Road flooding|simple|SWJ|8|0.4|0.78|0.35|0.04|0.15|0.4|road|storm|
1405|倒伏树木|Fallen tree|simple|LHSR|8|0.15|0.80|0.35|0.03|0.05|0|road|storm|
1406|燃气泄漏|Gas leak|complex|RQGS|2|0.03|0.60|0.70|0.02|0|0.5|urban|winter|1106
1407|火情隐患|Fire hazard|complex|GAFJ|8|0.06|0.62|0.40|0.02|0.05|0.2|any|winter|1104
1501|无照经营游商|Unlicensed hawker|simple|CGZF|4|4.0|0.84|0.06|0.01|0.20|0|urban|summer|
1502|店外经营|Business outside shop|simple|STREET|4|5.0|0.85|0.04|0.02|0.20|0|urban|summer|
1503|机动车乱停放|Illegal car parking|simple|JJZD|4|10.5|0.86|0.06|0.02|0.30|0|urban|none|
1504|非机动车乱停放|Illegal bicycle parking|simple|STREET|4|5.0|0.86|0.02|0.02|0.20|0|urban|none|
1505|占道经营|Occupying road for business|simple|CGZF|4|2.5|0.84|0.05|0.01|0.20|0|urban|summer|
1506|露天烧烤|Open-air barbecue|simple|CGZF|4|0.8|0.75|0.12|0.01|0.10|0|urban|summer|
1507|乞讨卖艺|Begging and busking|simple|GAFJ|4|0.2|0.80|0.02|0.00|0.05|0|urban|none|
1508|黑车揽客|Unlicensed taxi touting|complex|JTW|16|0.3|0.60|0.15|0.01|0.10|0|urban|none|1503
1509|僵尸车|Abandoned vehicle|simple|JJZD|40|0.8|0.82|0.05|0.02|0.05|0|urban|none|
1510|占用消防通道|Blocked fire lane|simple|GAFJ|4|1.0|0.82|0.10|0.02|0.10|0|urban|none|
1601|噪声扰民|Noise nuisance|complex|STHJ|40|0.5|0.30|0.60|0.02|0|0|urban|summer|1106
1602|河道污染|River pollution|complex|SWJ|80|0.2|0.55|0.20|0.02|0|0.2|rural|summer|1110
1603|企业偷排|Illegal discharge by firm|complex|STHJ|80|0.15|0.45|0.20|0.01|0|0.3|industrial|none|1110
1604|秸秆焚烧|Straw burning|simple|STREET|4|0.3|0.75|0.10|0.01|0.10|0|rural|winter|
1701|违法搭建|Illegal construction|complex|GHZY|120|0.7|0.62|0.30|0.02|0|0|any|none|1104
1702|违法用地|Illegal land use|complex|GHZY|160|0.15|0.55|0.15|0.01|0|0|rural|none|1104
1703|拆除违法建筑|Demolition of illegal building|complex|GHZY|160|0.1|0.60|0.10|0.00|0|0|any|none|1104
1704|破坏房屋承重结构|Damage to load-bearing walls|complex|FGJ|120|0.08|0.40|0.35|0.01|0|0|urban|none|0502
1705|群租|Overcrowded rental|complex|FGJ|120|0.3|0.35|0.35|0.01|0|0|urban|none|1106
1801|宠物扰民|Pet nuisance|simple|STREET|16|0.3|0.70|0.08|0.01|0|0|urban|none|
1802|井盖异响|Noisy manhole cover|simple|JSGL|16|0.2|0.72|0.08|0.01|0|0.2|road|none|
1803|门前责任区|Frontage responsibility|simple|STREET|8|1.0|0.85|0.02|0.01|0|0|urban|none|
1804|共享单车堆积|Shared-bike pile-up|simple|STREET|4|1.5|0.85|0.03|0.03|0.20|0|urban|none|
1805|小区违规改建|Unauthorised alteration in estate|complex|FGJ|80|0.2|0.45|0.25|0.01|0|0|urban|none|1104
1806|非法营运三轮车|Illegal tricycle|simple|JJZD|4|0.4|0.80|0.03|0.01|0.10|0|any|none|
"""


def _parse() -> list[CategorySpec]:
    out = []
    for line in _TABLE.strip().splitlines():
        f = line.split("|")
        out.append(
            CategorySpec(
                code=f[0],
                minor_name=f[1],
                minor_name_en=f[2],
                difficulty=f[3],
                department=f[4],
                limit_hours=float(f[5]),
                weight=float(f[6]),
                patrol=float(f[7]),
                hotline=float(f[8]),
                app=float(f[9]),
                camera=float(f[10]),
                sensor=float(f[11]),
                place=f[12],
                season=f[13],
                recode_to=f[14],
            )
        )
    return out


CATEGORIES: list[CategorySpec] = _parse()

# Simple categories a padding (冲量) inspector files: quick to "find", quick to close.
PADDING_CODES = ("1101", "1103", "1104", "1201", "1504", "1803")
# Categories that appear in bursts after storms (C4 seasonal shock) and how much more often.
STORM_BOOST = {"1404": 25.0, "1405": 25.0, "0103": 3.0, "0401": 4.0, "1401": 4.0, "0110": 3.0, "0603": 4.0, "1205": 3.0}
