"""Header aliases: Chinese and English spellings -> canonical column names.

Headers are compared after :func:`normalize_header` (strip, drop a BOM, lower
case, spaces and hyphens to underscores, full-width brackets to ASCII and any
bracketed unit such as ``(万元)`` removed). Table-specific aliases win over the
shared ones, because a word like 金额 (amount) means ``annual_value`` in
``supply`` but ``principal`` in ``loans``.

>>> canonical_header("统一社会信用代码", "firms")
'uscc'
>>> canonical_header("金额", "supply"), canonical_header("金额", "loans")
('annual_value', 'principal')
>>> canonical_header("注册资本（万元）", "firms")
'registered_capital'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chainrisk.errors import DatasetError

__all__ = ["ALIASES", "TABLE_ALIASES", "canonical_header", "map_headers", "normalize_header"]

#: Aliases valid in every table.
ALIASES: dict[str, str] = {
    # identity
    "统一社会信用代码": "uscc",
    "社会信用代码": "uscc",
    "信用代码": "uscc",
    "企业代码": "uscc",
    "credit_code": "uscc",
    "unified_social_credit_code": "uscc",
    "企业名称": "name",
    "公司名称": "name",
    "名称": "name",
    "firm_name": "name",
    "company_name": "name",
    "行业": "industry",
    "行业代码": "industry",
    "所属行业": "industry",
    "国民经济行业": "industry",
    "industry_code": "industry",
    "行业门类": "sector",
    "门类": "sector",
    "地区": "region",
    "行政区划": "region",
    "行政区划代码": "region",
    "区划代码": "region",
    "region_code": "region",
    "企业规模": "size_class",
    "规模": "size_class",
    "size": "size_class",
    "成立日期": "founded",
    "成立时间": "founded",
    "founded_date": "founded",
    "员工人数": "employees",
    "从业人数": "employees",
    "职工人数": "employees",
    "注册资本": "registered_capital",
    "平台": "platform",
    "所属平台": "platform",
    # financials
    "报告期": "period_end",
    "报告期末": "period_end",
    "会计期末": "period_end",
    "发布日期": "published",
    "披露日期": "published",
    "公布日期": "published",
    "published_date": "published",
    "总资产": "total_assets",
    "资产总额": "total_assets",
    "资产总计": "total_assets",
    "总负债": "total_liabilities",
    "负债总额": "total_liabilities",
    "负债合计": "total_liabilities",
    "所有者权益": "equity",
    "股东权益": "equity",
    "净资产": "equity",
    "营业收入": "revenue",
    "营业总收入": "revenue",
    "经营活动现金流": "operating_cf",
    "经营活动现金流量净额": "operating_cf",
    "经营活动产生的现金流量净额": "operating_cf",
    "投资活动现金流": "investing_cf",
    "投资活动现金流量净额": "investing_cf",
    "投资活动产生的现金流量净额": "investing_cf",
    "筹资活动现金流": "financing_cf",
    "筹资活动现金流量净额": "financing_cf",
    "筹资活动产生的现金流量净额": "financing_cf",
    # links
    "供应商": "supplier_uscc",
    "供应商代码": "supplier_uscc",
    "supplier": "supplier_uscc",
    "采购方": "buyer_uscc",
    "采购商": "buyer_uscc",
    "客户": "buyer_uscc",
    "买方": "buyer_uscc",
    "buyer": "buyer_uscc",
    "customer": "buyer_uscc",
    "年交易额": "annual_value",
    "年采购额": "annual_value",
    "value": "annual_value",
    "开始日期": "start",
    "起始日期": "start",
    "起始日": "start",
    "生效日期": "start",
    "start_date": "start",
    "结束日期": "end",
    "终止日期": "end",
    "失效日期": "end",
    "end_date": "end",
    "债权人": "creditor_uscc",
    "creditor": "creditor_uscc",
    "债务人": "debtor_uscc",
    "debtor": "debtor_uscc",
    "统计日期": "as_of",
    "截至日期": "as_of",
    "账龄天数": "days_outstanding",
    "担保人": "guarantor_id",
    "保证人": "guarantor_id",
    "担保方": "guarantor_id",
    "guarantor": "guarantor_id",
    "担保人类型": "guarantor_type",
    "保证人类型": "guarantor_type",
    "担保金额": "amount",
    "借款人": "borrower_uscc",
    "被担保人": "borrower_uscc",
    "borrower": "borrower_uscc",
    # loans
    "贷款编号": "loan_id",
    "借据号": "loan_id",
    "借据编号": "loan_id",
    "合同编号": "loan_id",
    "贷款机构": "lender",
    "贷款银行": "lender",
    "放款机构": "lender",
    "银行": "lender",
    "bank": "lender",
    "贷款金额": "principal",
    "本金": "principal",
    "授信额度": "limit",
    "额度": "limit",
    "币种": "currency",
    "放款日期": "start",
    "到期日": "maturity",
    "到期日期": "maturity",
    "maturity_date": "maturity",
    "担保方式": "collateral_type",
    "抵押类型": "collateral_type",
    "抵质押物价值": "collateral_value",
    "抵押物价值": "collateral_value",
    "违约损失率": "lgd",
    "月份": "month",
    "统计月份": "month",
    "贷款余额": "outstanding",
    "余额": "outstanding",
    "逾期天数": "days_overdue",
    "五级分类": "classification",
    "风险分类": "classification",
    "贷款分类": "classification",
    # events and signals
    "事件日期": "date",
    "日期": "date",
    "event_date": "date",
    "事件类型": "type",
    "类型": "type",
    "event_type": "type",
    "描述": "description",
    "说明": "description",
    "用电量": "electricity_kwh",
    "用电量_千瓦时": "electricity_kwh",
    "electricity": "electricity_kwh",
    "设备利用率": "equipment_utilization",
    "设备开工率": "equipment_utilization",
    "equipment_utilisation": "equipment_utilization",
    "utilization": "equipment_utilization",
    "orders_value": "orders",
    "order_value": "orders",
    "订单额": "orders",
    "订单金额": "orders",
    "invoices_value": "invoices",
    "invoice_value": "invoices",
    "开票额": "invoices",
    "开票金额": "invoices",
    "发票金额": "invoices",
    "应收账款天数": "receivable_days",
    "应收账款周转天数": "receivable_days",
    # ownership
    "股东": "owner_id",
    "出资人": "owner_id",
    "owner": "owner_id",
    "股东类型": "owner_type",
    "出资人类型": "owner_type",
    "被投资企业": "firm_uscc",
    "持股比例": "share",
    "出资比例": "share",
}

#: Aliases that depend on the table (they win over :data:`ALIASES`).
TABLE_ALIASES: dict[str, dict[str, str]] = {
    "supply": {"金额": "annual_value", "amount": "annual_value", "交易额": "annual_value"},
    "receivables": {"金额": "amount", "应收账款": "amount", "应收金额": "amount", "日期": "as_of"},
    "guarantees": {"金额": "amount"},
    "loans": {"金额": "principal", "amount": "principal", "开始日期": "start"},
    "loan_status": {"金额": "outstanding"},
    "events": {"金额": "amount", "涉及金额": "amount"},
    "ownership": {
        "企业": "firm_uscc",
        "firm": "firm_uscc",
        "统一社会信用代码": "firm_uscc",
        "uscc": "firm_uscc",
    },
}

_BRACKETED = re.compile(r"\s*[(\[][^)\]]*[)\]]\s*$")
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "　": " "})


def normalize_header(header: object) -> str:
    """Canonical spelling of a header before alias lookup.

    >>> normalize_header("\\ufeff Annual-Value ")
    'annual_value'
    >>> normalize_header("用电量（千瓦时）")
    '用电量'
    """
    text = str(header).replace("\ufeff", "").translate(_FULLWIDTH).strip()
    text = _BRACKETED.sub("", text).strip()
    return re.sub(r"[\s\-]+", "_", text).lower()


def canonical_header(header: object, table: str) -> str:
    """The canonical column name for ``header`` in ``table`` (the normalised header when unknown)."""
    key = normalize_header(header)
    table_map = TABLE_ALIASES.get(table, {})
    if key in table_map:
        return table_map[key]
    return ALIASES.get(key, key)


def map_headers(headers: Iterable[object], table: str, *, file: str = "") -> dict[str, str]:
    """Map each raw header to its canonical name.

    Raises
    ------
    DatasetError
        Two headers map to the same canonical name (e.g. both ``uscc`` and 统一社会信用代码).
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for h in headers:
        canon = canonical_header(h, table)
        if canon in seen:
            raise DatasetError(
                f"{file or table}: headers {seen[canon]!r} and {h!r} both mean column {canon!r}"
            )
        seen[canon] = str(h)
        out[str(h)] = canon
    return out
