"""The two editions of the site: where each one's pages live and the words of its frame.

The English pages are at the site's root, the Spanish ones in ``es/``; every page
links to the same page in the other edition. The notebooks' own text comes from
the notebooks (``notebooks/es`` for Spanish); this module holds only the words
around them: the navigation and the landing page.
"""

from markupsafe import Markup

#: the folder of each edition inside the site, and its way back to the root
FOLDER = {"en": "", "es": "es/"}
ROOT = {"en": "", "es": "../"}

WORDS = {
    "en": {
        "name": "English",
        "contents": "Contents",
        "title": "Frontpropagation: a reproduction of de Mayo (2021) with nnetlib",
        "quick": Markup(
            "Classroom run (<code>make report QUICK=1</code>): every notebook ran at reduced "
            "size, so the figures below are not the full-scale ones."
        ),
        "quick_some": Markup(
            "The results of {stems} were saved by a classroom run "
            "(<code>NNETLIB_QUICK=1</code>), at reduced size: run those notebooks at full size "
            "to replace them."
        ),
        "citation": Markup(
            "A reproduction of Mateo de Mayo, <cite>Implementación Red Feedforward</cite>, "
            "FaMAF, Universidad Nacional de Córdoba, 2021 (in Spanish); its code:"
        ),
        "about_title": "What this report is about",
        "about": Markup(
            "A feedforward network's loss depends on each weight $w^k_{ij}$ through every "
            "activation after it. <em>Frontpropagation</em>, as de Mayo (2021) calls it, computes "
            "the gradient by carrying the derivatives $\\partial a^l_q/\\partial w^k_{ij}$ forward, "
            "layer by layer, beside the activations themselves: each layer's derivatives follow "
            "from the previous layer's by one recursion (eq. 2 of notebook 01), and at the output "
            "layer they combine with the output error into the gradient of the loss (eq. 1). This "
            "is forward-mode differentiation, where backpropagation, which PyTorch's autograd "
            "does, sweeps the output error backwards. The notebooks derive the recursion, check "
            "it against finite differences and autograd, write it in Python, NumPy, Cython "
            "(threads over row blocks) and PyTorch, train the article's MNIST classifier and "
            "autoencoder with it, rebuild its timing table on this machine, try its genetic "
            "algorithm, and take up the future work it lists."
        ),
        "results_title": "Headline results",
        "results_note": Markup(
            "Read from the results the notebooks saved when they last ran "
            "(<code>{label}</code>); nothing here is typed in. A row marked "
            '<span class="nn-missing">not yet computed</span> is waiting for its notebook to save it.'
        ),
        "notebooks_title": "The notebooks",
        "built": Markup(
            "Built {date} on {machine}, from commit <code>{commit}</code> by "
            "<code>{command}</code>. The notebook pages show the outputs stored in the notebooks; "
            "no cell was re-run to build them."
        ),
    },
    "es": {
        "name": "Español",
        "contents": "Índice",
        "title": "Frontpropagation: una reproducción de de Mayo (2021) con nnetlib",
        "quick": Markup(
            "Corrida de clase (<code>make report QUICK=1</code>): cada notebook corrió en tamaño "
            "reducido, así que las cifras de abajo no son las de tamaño completo."
        ),
        "quick_some": Markup(
            "Los resultados de {stems} los guardó una corrida de clase "
            "(<code>NNETLIB_QUICK=1</code>), en tamaño reducido: corré esos notebooks en tamaño "
            "completo para reemplazarlos."
        ),
        "citation": Markup(
            "Una reproducción de Mateo de Mayo, <cite>Implementación Red Feedforward</cite>, "
            "FaMAF, Universidad Nacional de Córdoba, 2021; su código:"
        ),
        "about_title": "De qué trata este informe",
        "about": Markup(
            "El error de una red feedforward depende de cada peso $w^k_{ij}$ a través de todas "
            "las activaciones que vienen después. La <em>frontpropagation</em>, como la llama de "
            "Mayo (2021), calcula el gradiente llevando hacia adelante las derivadas "
            "$\\partial a^l_q/\\partial w^k_{ij}$, capa por capa, junto a las activaciones: las "
            "derivadas de cada capa salen de las de la capa anterior por una recursión (ec. 2 del "
            "notebook 01), y en la capa de salida se combinan con el error de la salida para dar "
            "el gradiente del error (ec. 1). Es diferenciación en modo directo (forward mode), "
            "mientras que la backpropagation, la que hace el autograd de PyTorch, barre el error "
            "de la salida hacia atrás. Los notebooks deducen la recursión, la verifican contra "
            "diferencias finitas y contra autograd, la escriben en Python, NumPy, Cython (hilos "
            "sobre bloques de filas) y PyTorch, entrenan con ella el clasificador y el "
            "autoencoder de MNIST del artículo, rehacen su tabla de tiempos en esta máquina, "
            "prueban su algoritmo genético y retoman el trabajo futuro que propone."
        ),
        "results_title": "Resultados principales",
        "results_note": Markup(
            "Leídos de los resultados que guardaron los notebooks la última vez que corrieron "
            "(<code>{label}</code>); acá no se escribe nada a mano. Una fila marcada "
            '<span class="nn-missing">todavía sin calcular</span> espera que su notebook la '
            "guarde. Los nombres de las corridas (Nnet, Nnet*, PyTorch) quedan como en el "
            "artículo."
        ),
        "notebooks_title": "Los notebooks",
        "built": Markup(
            "Generado el {date} en {machine}, desde el commit <code>{commit}</code> con "
            "<code>{command}</code>. Las páginas de los notebooks muestran las salidas guardadas "
            "en los notebooks; para generarlas no se volvió a correr ninguna celda."
        ),
    },
}


def other(lang):
    """The other edition's language code."""
    return "es" if lang == "en" else "en"


def switch_href(lang, name):
    """From page ``name`` of edition ``lang``, the link to the same page in the other edition."""
    return ROOT[lang] + FOLDER[other(lang)] + name
