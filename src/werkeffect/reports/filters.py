# ruff: noqa: E501
"""The pandoc Lua filter of the built-in engine (kept as a string so it ships with the code).

* numbers ``#fig-`` figures and ``#tbl-`` tables in document order and prefixes their
  captions ("Figuur 1: …", "Tabel 1: …" in Dutch);
* turns ``@fig-…``/``@tbl-…`` into links "Figuur 1"; any other citation, and a reference to a
  label that does not exist, stops the render with a clear message;
* renders Quarto callouts (``::: {.callout-note}``) for HTML and Typst; other Quarto-only
  div classes (tabsets, columns, conditional content, layouts) are refused.
"""

LUA_FILTER = r"""
local lang = 'nl'
local names = {
  nl = { fig = 'Figuur', tbl = 'Tabel' },
  en = { fig = 'Figure', tbl = 'Table' },
}
local callout_titles = {
  nl = { note = 'Opmerking', tip = 'Tip', warning = 'Let op', important = 'Belangrijk',
         caution = 'Voorzichtig' },
  en = { note = 'Note', tip = 'Tip', warning = 'Warning', important = 'Important',
         caution = 'Caution' },
}
local numbers = {}
local count = { fig = 0, tbl = 0 }

local function refuse(what)
  error('werkeffect: ' .. what .. ' is not supported by the built-in Quarto engine', 0)
end

local function prefix(blocks, text)
  if #blocks == 0 then
    return pandoc.Blocks({ pandoc.Plain({ pandoc.Str(text) }) })
  end
  local first = blocks[1]
  if first.t == 'Plain' or first.t == 'Para' then
    first.content:insert(1, pandoc.Space())
    first.content:insert(1, pandoc.Str(text .. ':'))
  else
    blocks:insert(1, pandoc.Plain({ pandoc.Str(text .. ':') }))
  end
  return blocks
end

local function get_meta(m)
  if m.lang then
    local l = pandoc.utils.stringify(m.lang):sub(1, 2)
    if names[l] then lang = l end
  end
end

local function number_figure(el)
  local id = el.identifier or ''
  if id:match('^fig%-') then
    if numbers[id] then error('werkeffect: label ' .. id .. ' is used twice', 0) end
    count.fig = count.fig + 1
    numbers[id] = count.fig
    el.caption.long = prefix(el.caption.long, names[lang].fig .. ' ' .. count.fig)
    return el
  end
end

local function number_div(el)
  local id = el.identifier or ''
  if id:match('^tbl%-') then
    if numbers[id] then error('werkeffect: label ' .. id .. ' is used twice', 0) end
    count.tbl = count.tbl + 1
    numbers[id] = count.tbl
    local label = names[lang].tbl .. ' ' .. count.tbl
    local done = false
    el.content = el.content:walk({
      Table = function(t)
        if done then return nil end
        done = true
        t.caption.long = prefix(t.caption.long, label)
        return t
      end,
    })
    if not done then
      el.content:insert(1, pandoc.Para({ pandoc.Strong({ pandoc.Str(label .. ':') }) }))
    end
    return el
  elseif id:match('^fig%-') then
    refuse('a figure div (::: {#' .. id .. '})')
  end
end

local function resolve(el)
  local out = pandoc.Inlines({})
  for i, c in ipairs(el.citations) do
    local id = c.id
    local kind = id:match('^(%a+)%-')
    if kind ~= 'fig' and kind ~= 'tbl' then
      refuse('the citation or cross-reference @' .. id .. ' (only @fig- and @tbl- are)')
    end
    local n = numbers[id]
    if not n then
      error('werkeffect: unresolved cross-reference @' .. id .. ': no figure or table has that label', 0)
    end
    if i > 1 then
      out:insert(pandoc.Str(','))
      out:insert(pandoc.Space())
    end
    out:insert(pandoc.Link(pandoc.Inlines({ pandoc.Str(names[lang][kind]), pandoc.Space(),
      pandoc.Str(tostring(n)) }), '#' .. id))
  end
  return out
end

local function typst_escape(s)
  return (s:gsub('([%[%]#%*_\\$@<>`])', '\\%1'))
end

local function divs(el)
  for _, cls in ipairs(el.classes) do
    local kind = cls:match('^callout%-(%a+)$')
    if kind then
      if not callout_titles.nl[kind] then refuse('the callout class ' .. cls) end
      local title = el.attributes['title'] or callout_titles[lang][kind]
      if FORMAT == 'typst' then
        local blocks = pandoc.Blocks({ pandoc.RawBlock('typst', '#callout(kind: "' .. kind
          .. '", title: [' .. typst_escape(title) .. '])[') })
        blocks:extend(el.content)
        blocks:insert(pandoc.RawBlock('typst', ']'))
        return blocks
      else
        local content = pandoc.Blocks({ pandoc.Div(pandoc.Plain({ pandoc.Str(title) }),
          pandoc.Attr('', { 'callout-title' })) })
        content:extend(el.content)
        return pandoc.Div(content, pandoc.Attr(el.identifier, { 'callout', 'callout-' .. kind }))
      end
    end
    if cls:match('^panel%-') or cls:match('^column') or cls:match('^content%-')
        or cls == 'columns' or cls:match('^page%-') or cls:match('^margin') then
      refuse('the Quarto div class .' .. cls)
    end
  end
  for k, _ in pairs(el.attributes) do
    if k:match('^layout') then refuse('the div attribute ' .. k) end
  end
end

local function spans(el)
  if FORMAT ~= 'typst' then return nil end
  for _, cls in ipairs(el.classes) do
    if cls == 'niet-beschikbaar' then
      local out = pandoc.Inlines({ pandoc.RawInline('typst', '#text(fill: rgb("#9b2c2c"), style: "italic")[') })
      out:extend(el.content)
      out:insert(pandoc.RawInline('typst', ']'))
      return out
    elseif cls == 'table-note' then
      local out = pandoc.Inlines({ pandoc.RawInline('typst', '#text(size: 8pt, fill: rgb("#555555"))[') })
      out:extend(el.content)
      out:insert(pandoc.RawInline('typst', ']'))
      return out
    end
  end
end

return {
  { Meta = get_meta },
  { traverse = 'topdown', Figure = number_figure, Div = number_div },
  { Cite = resolve },
  { Div = divs, Span = spans },
}
"""
