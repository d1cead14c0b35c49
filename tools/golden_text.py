"""tools/golden_text.py - the fixed texts the model reference scripts share.

SENTENCES (200 lines) is what tests/data/real/minilm_sentences.txt holds and what the tiny
tokenizers of tools/gen_model_golden.py are trained on; PROMPTS are the causal-model prompts.
Everything here is written out or generated from a fixed seed, so a regeneration on any machine
gives the same text (the reference outputs may still move in their last bits with the peers'
versions). Only the Python standard library is used.
"""
import random

# Hand-written: several topics and registers, short and long, numbers, punctuation, a little
# code, non-ASCII letters, questions, lists and quotes.
WRITTEN = [
    "The cat sat on the mat.",
    "A quick brown fox jumps over the lazy dog.",
    "It rained all night, and by morning the river had burst its banks.",
    "Please send the report by Friday at 5 pm.",
    "How many moons does Jupiter have?",
    "Jupiter has at least ninety-five known moons.",
    "The meeting was moved to Room 204 on the second floor.",
    "She plays the violin every evening after dinner.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The stock market fell 3.2% on Tuesday after the announcement.",
    "I can't believe it's already December!",
    "Do you know where the nearest train station is?",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "Photosynthesis converts light energy into chemical energy stored in sugars.",
    "The server returned HTTP 503 because the model was still loading.",
    "He said, \"I'll be there in ten minutes,\" but he arrived an hour late.",
    "Machine learning models need large amounts of training data.",
    "The museum opens at nine and closes at six, except on Mondays.",
    "My favourite colour is blue, although green comes a close second.",
    "Tokyo is the capital of Japan and one of the largest cities in the world.",
    "The children built a sandcastle that the tide washed away.",
    "Exercise improves both physical and mental health.",
    "The committee approved the budget by a vote of seven to two.",
    "A neural network is a function built from layers of simple units.",
    "Coffee or tea?",
    "Yes.",
    "No, thank you.",
    "The bridge was closed for repairs for most of the summer.",
    "Our flight was delayed because of fog at the airport.",
    "The library has more than two million books and a large map collection.",
    "Café au lait is coffee with hot milk.",
    "Zürich, Genève and Lausanne are cities in Switzerland.",
    "The naïve approach works for small inputs but scales poorly.",
    "def add(a, b): return a + b",
    "for (int i = 0; i < n; i++) sum += x[i];",
    "SELECT name, age FROM users WHERE age > 30 ORDER BY name;",
    "The function returns -1 when the file cannot be opened.",
    "Version 2.4.1 fixes a crash when the input is empty.",
    "Prices start at $19.99 and go up to $249.",
    "The population grew from 1.2 million in 1990 to 1.9 million in 2020.",
    "Mount Everest is 8,849 metres high.",
    "Light travels at about 299,792 kilometres per second.",
    "The first step is to read the manual; the second is to ignore it.",
    "Birds migrate south in autumn and return in spring.",
    "The doctor recommended rest, fluids and a follow-up visit in a week.",
    "A good night's sleep helps you concentrate the next day.",
    "The orchestra tuned their instruments before the concert began.",
    "She finished the marathon in three hours and forty-two minutes.",
    "The company hired fifty new engineers last quarter.",
    "Earthquakes are measured on the moment magnitude scale.",
    "Paris is known for the Eiffel Tower, the Louvre and its cafés.",
    "The garden was full of roses, tulips and sunflowers.",
    "He forgot his umbrella and got soaked on the way home.",
    "Solar panels convert sunlight directly into electricity.",
    "The teacher asked the students to write an essay about their holidays.",
    "An apple a day keeps the doctor away, or so they say.",
    "The old lighthouse still guides ships along the rocky coast.",
    "Please remember to turn off the lights when you leave.",
    "The software update will restart your computer automatically.",
    "Why is the sky blue during the day and red at sunset?",
    "Rayleigh scattering makes short wavelengths scatter more than long ones.",
    "The detective examined the footprints near the broken window.",
    "Vaccines train the immune system to recognise a pathogen.",
    "The train leaves at 07:45 from platform 3.",
    "Our team won the championship for the third year in a row.",
    "Global temperatures have risen by about 1.1 degrees since pre-industrial times.",
    "The novel tells the story of a family over three generations.",
    "Bread, milk, eggs, butter, cheese.",
    "Turn left at the second traffic light, then keep going straight.",
    "The package was delivered to the wrong address.",
    "Dolphins are highly intelligent marine mammals.",
    "The volcano erupted without warning, covering the town in ash.",
    "Good morning! How did you sleep?",
    "The printer is out of paper again.",
    "Compilers translate source code into machine instructions.",
    "The rent is due on the first day of every month.",
    "We watched the sunrise from the top of the hill.",
    "The lecture covered the causes and consequences of the French Revolution.",
    "Honey never spoils if it is stored properly.",
    "The bakery on the corner sells the best croissants in town.",
    "Astronomers discovered a planet orbiting a nearby star.",
    "The password must contain at least twelve characters.",
    "Rust and C both compile to native code, but they manage memory differently.",
    "The quarterly revenue was 4.5 billion dollars, up 12 percent year over year.",
    "Grandma's apple pie recipe has been in the family for generations.",
    "The hiking trail is steep, narrow and poorly marked in places.",
    "Thunderstorms are expected this afternoon with heavy rain.",
    "The spacecraft entered orbit around Mars after a seven-month journey.",
    "Reading before bed helps many people relax.",
    "A triangle has three sides and three angles that add up to 180 degrees.",
    "The city council voted to build a new public park near the river.",
    "Her presentation was clear, concise and well received.",
    "The cat knocked a glass off the table and looked at me.",
    "Our internet connection keeps dropping every few minutes.",
    "Learning a new language takes patience and daily practice.",
    "The glacier has retreated more than a kilometre in fifty years.",
    "The bank will be closed on Monday for the public holiday.",
    "Fresh vegetables are cheaper at the farmers' market.",
    "He repaired the bicycle with a wrench, a screwdriver and some tape.",
    "Thank you for your help; I really appreciate it.",
    "The results of the experiment were consistent with the hypothesis, although the sample was "
    "small and the authors caution that further studies with larger and more diverse groups of "
    "participants are needed before any firm conclusion can be drawn.",
    "When the power went out during the storm, the whole street gathered in the old school hall, "
    "where someone had brought candles, a guitar and an enormous pot of soup, and the evening "
    "turned into the best party the neighbourhood had seen in years.",
    "The transformer architecture replaced recurrence with attention, letting every position of a "
    "sequence look at every other position in one step, which made training on long texts far "
    "more parallel than it had been with recurrent networks.",
    "Ein kleiner Hund bellt im Garten.",
    "Le petit déjeuner est servi de sept à dix heures.",
    "El tren llega a Madrid a las cinco de la tarde.",
    "The ratio of 3:4 is the same as 0.75 or 75%.",
    "E = mc^2 relates energy and mass.",
    "Call me at +1 555 0100 or email info@example.com.",
    "The file is at /usr/local/share/data/config.json.",
    "Visit https://example.org/docs for more details.",
    "He scored 98/100 on the test!",
    "Wait... what did you just say?",
    "Hmm, I'm not sure that's right.",
    "OK",
    "The end.",
]

SUBJECTS = ["The engineer", "My neighbour", "The old man", "A young student", "The pilot",
            "Our manager", "The chef", "A small robot", "The scientist", "Her brother",
            "The farmer", "A tourist", "The nurse", "The mayor", "My sister", "The gardener"]
VERBS = ["repaired", "painted", "described", "carried", "forgot", "found", "sold", "cleaned",
         "measured", "borrowed", "designed", "photographed", "ordered", "lost", "explained",
         "tested"]
OBJECTS = ["the red car", "an old wooden chair", "the broken clock", "a map of the city",
           "the new bridge", "three boxes of apples", "the kitchen window", "a tiny satellite",
           "the garden fence", "a blue umbrella", "the long report", "an antique lamp",
           "the school bus", "a loaf of bread", "the radio", "the train timetable"]
TAILS = ["yesterday", "last week", "before lunch", "in the rain", "without any help",
         "after a long day", "for the first time", "with great care", "at midnight",
         "on Sunday morning", "in twenty minutes", "despite the noise", "", "", "", ""]
OPENERS = ["", "", "", "Surprisingly, ", "As usual, ", "In the end, ", "Once again, ",
           "According to the news, "]


def _generated(n, seed=8):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        opener, subject = rng.choice(OPENERS), rng.choice(SUBJECTS)
        if opener:
            subject = subject[0].lower() + subject[1:]
        s = opener + subject + " " + rng.choice(VERBS) + " " + rng.choice(OBJECTS)
        tail = rng.choice(TAILS)
        if tail:
            s += " " + tail
        r = rng.random()
        if r < 0.15:
            s += " and then " + rng.choice(VERBS) + " " + rng.choice(OBJECTS)
        if r > 0.9:
            s += ", " + str(rng.randint(2, 9999)) + " times in total"
        s += rng.choice([".", ".", ".", "!"])
        if s not in out:
            out.append(s)
    return out


SENTENCES = WRITTEN + _generated(200 - len(WRITTEN))
assert len(SENTENCES) == 200 and len(set(SENTENCES)) == 200

# Causal-model prompts (plain text, no chat template). The tiny models see them through their
# own small tokenizers; the SmolLM2 greedy references see all ten.
PROMPTS = [
    "The history of the printing press begins in the fifteenth century, when",
    "Here is a short poem about the sea:\n",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "The three primary colours are",
    "Q: What is the capital of France?\nA:",
    "Once upon a time, in a small village at the edge of a great forest, there lived",
    "To bake a simple loaf of bread, you will need",
    "1, 2, 3, 5, 8, 13, 21,",
    "The main difference between a virus and a bacterium is",
    "Dear Sir or Madam,\n\nI am writing to",
]
