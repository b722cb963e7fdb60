"""Words the generated company is made of: names, places, products, subjects.

Kept here rather than drawn from Faker so a seed depends on nothing but its number and
date. Domains use the reserved `.example` top-level domain and phone numbers come from
Ofcom's ranges reserved for drama, so no generated contact detail reaches a real person.
No entry may hold a tab, newline or backslash (they would need escaping in COPY text).
"""

from __future__ import annotations

FIRST_NAMES = (
    "Anna", "Adam", "Agnieszka", "Alexander", "Alice", "Amir", "Andrzej", "Ariana", "Ben", "Björn", "Camille",
    "Carlos", "Chloe", "Daniel", "Darius", "Dmitri", "Elena", "Emma", "Erik", "Fatemeh", "Felix", "Hannah",
    "Hugo", "Ines", "Ivan", "Jakub", "James", "Jana", "Jonas", "Julia", "Kamil", "Katarzyna", "Laura", "Lena",
    "Leon", "Lucas", "Magdalena", "Marco", "Maria", "Marta", "Mateusz", "Maxim", "Mina", "Mohammad", "Natalia",
    "Niklas", "Nina", "Olga", "Oliver", "Omid", "Paula", "Paweł", "Pedro", "Piotr", "Reza", "Rosa", "Sara",
    "Sebastian", "Sofia", "Stefan", "Svetlana", "Tatiana", "Thomas", "Tomasz", "Valentina", "Viktor", "Zofia",
)  # fmt: skip
LAST_NAMES = (
    "Abbasi", "Andersen", "Bauer", "Becker", "Brown", "Costa", "Dąbrowski", "Dubois", "Ebrahimi", "Fischer",
    "Garcia", "Hansen", "Hoffmann", "Horvat", "Ivanova", "Jankowski", "Jensen", "Karimi", "Keller", "Kowalczyk",
    "Kowalski", "Kozlov", "Krüger", "Lambert", "Larsen", "Lewandowski", "Lindqvist", "Martin", "Meyer", "Moreau",
    "Morozov", "Müller", "Nielsen", "Nowak", "Novak", "Olsen", "Pavlov", "Petit", "Popescu", "Rahimi", "Richter",
    "Rossi", "Schmidt", "Schneider", "Silva", "Smirnov", "Sokolov", "Svensson", "Szymański", "Taylor", "Tehrani",
    "Vasquez", "Volkov", "Wagner", "Walker", "Weber", "Wiśniewski", "Wójcik", "Zieliński", "Zimmermann",
)  # fmt: skip
COMPANY_WORDS = (
    "Amber", "Apex", "Arctic", "Aurora", "Baltic", "Beacon", "Birch", "Blue", "Bright", "Cedar", "Clear",
    "Cobalt", "Crest", "Delta", "Eagle", "Ember", "Falcon", "Fjord", "Granite", "Green", "Harbor", "Helix",
    "Horizon", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nord", "Nova", "Oak", "Orbit",
    "Pine", "Pioneer", "Polar", "Prime", "Quartz", "Rapid", "River", "Sage", "Silver", "Solar", "Stone",
    "Summit", "Terra", "Tide", "Vector", "Vista", "Willow", "Zenith",
)  # fmt: skip
COMPANY_TRADES = (
    "Analytics", "Bakeries", "Builders", "Chemicals", "Clinics", "Construction", "Consulting", "Dental",
    "Design", "Electric", "Energy", "Engineering", "Farms", "Foods", "Freight", "Furniture", "Health",
    "Hotels", "Industries", "Insurance", "Labs", "Legal", "Logistics", "Machines", "Media", "Metals",
    "Motors", "Optics", "Packaging", "Pharma", "Plastics", "Print", "Retail", "Robotics", "Software",
    "Solutions", "Systems", "Textiles", "Tools", "Travel",
)  # fmt: skip
LEGAL_FORMS = ("Ltd", "GmbH", "Sp. z o.o.", "AB", "SA", "BV", "AS", "Group", "Inc.", "s.r.o.")
INDUSTRIES = (
    "Manufacturing", "Retail", "Healthcare", "Construction", "Logistics", "Professional services",
    "Software", "Hospitality", "Education", "Finance", "Energy", "Food and beverage",
)  # fmt: skip
PLACES = (
    ("Poland", "Warsaw"), ("Poland", "Kraków"), ("Poland", "Gdańsk"), ("Germany", "Berlin"), ("Germany", "Munich"),
    ("Germany", "Hamburg"), ("United Kingdom", "London"), ("United Kingdom", "Manchester"), ("France", "Lyon"),
    ("Netherlands", "Rotterdam"), ("Sweden", "Stockholm"), ("Denmark", "Aarhus"), ("Czechia", "Brno"),
    ("Austria", "Vienna"), ("Spain", "Valencia"), ("Italy", "Milan"),
)  # fmt: skip
JOB_TITLES = (
    "CEO", "Managing director", "Head of purchasing", "Buyer", "Operations manager", "IT manager", "CFO",
    "Office manager", "Project manager", "Head of sales", "Plant manager", "Procurement specialist",
)  # fmt: skip
# Ofcom's numbers reserved for drama: each prefix is followed by three digits, always valid, never anyone's.
PHONE_PREFIXES = (
    "+441134960", "+441144960", "+441164960", "+441174960", "+441184960", "+441214960", "+441314960",
    "+441414960", "+441514960", "+441614960", "+441914980", "+442079460", "+442896496", "+442920180",
)  # fmt: skip

# (name, series, list price, unit cost) in the company currency.
PRODUCTS = (
    ("Quota Desk 24", "Workstations", 890, 610),
    ("Quota Desk 32", "Workstations", 1290, 860),
    ("Standing frame S", "Workstations", 540, 300),
    ("Ergo chair", "Seating", 420, 230),
    ("Ergo chair Pro", "Seating", 690, 380),
    ("Meeting pod", "Spaces", 7400, 4900),
    ("Phone booth", "Spaces", 5200, 3600),
    ("Acoustic panel set", "Spaces", 380, 150),
    ("Conference table L", "Conference", 2900, 1750),
    ("Conference camera", "Conference", 1150, 790),
    ("Room display 55", "Conference", 1650, 1240),
    ("Locker block", "Storage", 960, 540),
    ("Archive shelving", "Storage", 610, 330),
    ("Office planning", "Services", 1800, 700),
    ("Installation day", "Services", 950, 520),
    ("Relocation service", "Services", 3400, 2300),
    ("Maintenance plan (year)", "Services", 1200, 380),
    ("Extended warranty", "Services", 240, 60),
    ("Lighting kit", "Accessories", 260, 120),
    ("Monitor arm", "Accessories", 180, 85),
    ("Cable tray set", "Accessories", 95, 38),
    ("Whiteboard wall", "Accessories", 720, 410),
)
# How often each product is on a quote (same order as PRODUCTS).
PRODUCT_POPULARITY = (9, 6, 5, 9, 5, 2, 2, 4, 3, 3, 2, 3, 3, 3, 6, 1, 4, 5, 4, 6, 4, 2)

DEAL_TOPICS = (
    "office fit-out", "new workstations", "meeting rooms", "seating upgrade", "second floor", "new branch",
    "conference rooms", "storage", "acoustics", "maintenance renewal", "relocation", "hybrid office",
)  # fmt: skip
LEAD_TITLES = (
    "Website enquiry", "Price request", "Demo request", "Catalogue download", "Trade fair contact",
    "Callback request", "Webinar attendee", "Referral", "Partner introduction", "Quote request",
)  # fmt: skip
DISQUALIFY_REASONS = (
    "No budget", "Too small", "Outside our region", "Student or job seeker", "Duplicate", "No reply after 3 attempts",
    "Competitor research", "Wrong contact",
)  # fmt: skip
# Notes reps leave on lost deals, keyed by the loss reasons the migration creates.
LOSS_NOTES = {
    "Price too high": ("Wanted 20% off the list price", "Cheaper offer from a local dealer", ""),
    "No budget": ("Budget frozen until next year", "Budget moved to IT", ""),
    "Competitor chosen": ("Went with their existing supplier", "Competitor delivered faster", ""),
    "No decision": ("Project postponed indefinitely", "Decision maker left the company", ""),
    "Timing": ("Move delayed by a year", "Ask again next quarter", ""),
    "Product fit": ("Needed custom sizes", "Wanted leasing only", ""),
}
ACTIVITY_SUBJECTS = {
    "call": ("Discovery call", "Follow-up call", "Quote follow-up", "Check-in", "Delivery date call", "Cold call"),
    "email": ("Quote sent", "Product brochure", "Meeting summary", "Follow-up", "Contract draft", "Introduction"),
    "meeting": ("On-site visit", "Showroom visit", "Needs analysis", "Proposal presentation", "Video meeting"),
    "task": ("Prepare quote", "Send samples", "Update floor plan", "Call back", "Check stock", "Book installer"),
}
CASE_SUBJECTS = (
    "Chair mechanism broken", "Missing parts in delivery", "Desk motor not working", "Invoice question",
    "Scratched surface on arrival", "Request for assembly manual", "Delivery date change", "Warranty claim",
    "Wrong colour delivered", "Booth ventilation noisy", "Camera does not connect", "Replacement keys",
)  # fmt: skip
CASE_CHANNELS = ("email", "phone", "portal", "chat")
CSAT_COMMENTS = ("Quick and friendly", "Solved at once", "Took too long", "Had to call twice", "")
NPS_COMMENTS = ("Great products", "Good service", "Delivery was late", "Pricey but worth it", "")
